import java.lang.reflect.Field;
import java.util.Arrays;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local for the local gateway: AWS's own server, started from its own command-line
 * flags, with two changes its flags cannot make. Its Jetty connector binds one address (the
 * first argument, 127.0.0.1) instead of every interface, and a request carrying an Origin
 * header (a web page, also one that reached loopback through DNS rebinding) is refused with
 * 403: DynamoDB Local accepts any credentials, so only local non-browser clients may use it.
 * Telemetry is never configured (ServerRunner.main would), so nothing leaves the machine.
 *
 * Usage: java -cp DynamoDBLocal.jar LoopbackDynamoDbLocal.java <host> <DynamoDB Local flags...>
 */
public final class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    if (args.length < 1) throw new IllegalArgumentException("usage: LoopbackDynamoDbLocal <host> [DynamoDB Local flags]");
    String host = args[0];
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(Arrays.copyOfRange(args, 1, args.length));
    // DynamoDBProxyServer builds `new Server(port)` and keeps it private; its connector is not started yet.
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server jetty = (Server) field.get(proxy);
    Connector[] connectors = jetty.getConnectors();
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connector to bind");
    for (Connector connector : connectors) ((ServerConnector) connector).setHost(host);
    jetty.setHandler(new RefuseBrowsers(jetty.getHandler()));
    proxy.start();
    System.out.println("DynamoDB Local listening on " + host + ":" + ((ServerConnector) connectors[0]).getLocalPort());
  }

  /** Answers 403 to any request with an Origin header; passes the rest to DynamoDB Local. */
  static final class RefuseBrowsers extends Handler.Wrapper {
    RefuseBrowsers(Handler handler) {
      super(handler);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      if (request.getHeaders().get("Origin") != null) {
        Response.writeError(request, response, callback, 403, "Browser requests are not allowed.");
        return true;
      }
      return super.handle(request, response, callback);
    }
  }
}
