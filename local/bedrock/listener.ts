/**
 * One loopback port that speaks both HTTP/1.1 and cleartext HTTP/2 (h2c, prior knowledge).
 * The Bedrock Runtime SDK client uses HTTP/2 by default, while clients given a
 * `NodeHttpHandler` use HTTP/1.1; sniffing the connection preface lets both reach the same
 * handler, so the gateway's code needs no special client for local mode.
 */
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { ModelResponse } from "./wire.js";

/** The request side both protocol stacks share. */
export interface ModelRequest extends NodeJS.ReadableStream {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

export type RequestHandler = (req: ModelRequest, res: ModelResponse) => void;

export interface DualProtocolListener {
  port: number;
  /** Stops accepting, destroys every open connection, and resolves once the port is released. */
  close(): Promise<void>;
}

// Every HTTP/2 connection starts with this preface; no HTTP/1 method starts with "PRI ".
const H2_PREFACE_START = Buffer.from("PRI ");

export async function listenDualProtocol(handler: RequestHandler, host: string, port: number): Promise<DualProtocolListener> {
  // Neither protocol server listens itself: the net server hands them accepted sockets.
  const h1 = http.createServer((req, res) => handler(req, res));
  const h2 = http2.createServer((req, res) => handler(req as unknown as ModelRequest, res));
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // Resets by aborting clients are normal here; the protocol layers report what matters.
    socket.on("error", () => {});
    let head = Buffer.alloc(0);
    const sniff = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.length < H2_PREFACE_START.length && H2_PREFACE_START.subarray(0, head.length).equals(head)) return;
      socket.off("data", sniff);
      socket.pause();
      socket.unshift(head);
      const isH2 = head.subarray(0, H2_PREFACE_START.length).equals(H2_PREFACE_START);
      (isH2 ? h2 : h1).emit("connection", socket);
      // The HTTP/1 parser reads through 'data' events and needs the paused socket restarted;
      // the HTTP/2 session takes the socket over and reads the unshifted bytes itself.
      if (!isH2) socket.resume();
    };
    socket.on("data", sniff);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
