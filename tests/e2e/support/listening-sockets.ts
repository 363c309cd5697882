/**
 * The TCP sockets a process listens on, read from Linux's /proc (no `ss` or `lsof` needed):
 * the process's socket inodes from /proc/<pid>/fd, matched against the LISTEN rows of
 * /proc/net/tcp and tcp6.
 */
import { readdir, readFile, readlink } from "node:fs/promises";

export interface ListeningSocket {
  address: string;
  port: number;
}

/** `0100007F` -> `127.0.0.1`; a 32-hex-digit IPv6 address -> its compressed-free colon form. */
function decodeAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join(".");
  // IPv6 in /proc is four little-endian 32-bit words.
  const words = [0, 1, 2, 3].map((w) => hex.slice(w * 8, w * 8 + 8).match(/../g)!.reverse().join(""));
  const groups = words.join("").match(/..../g)!.map((g) => parseInt(g, 16).toString(16));
  const mapped = groups.slice(0, 6).join(":") === "0:0:0:0:0:ffff";
  return mapped ? `::ffff:${decodeAddress(words[3]!.match(/../g)!.reverse().join(""))}` : groups.join(":");
}

async function listenRows(): Promise<Map<string, ListeningSocket>> {
  const byInode = new Map<string, ListeningSocket>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== "0A") continue; // 0A = LISTEN
      const [addressHex, portHex] = fields[1]!.split(":");
      byInode.set(fields[9]!, { address: decodeAddress(addressHex!), port: parseInt(portHex!, 16) });
    }
  }
  return byInode;
}

export async function listeningSockets(pid: number): Promise<ListeningSocket[]> {
  const rows = await listenRows();
  const sockets: ListeningSocket[] = [];
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const row = inode ? rows.get(inode) : undefined;
    if (row) sockets.push(row);
  }
  return sockets;
}
