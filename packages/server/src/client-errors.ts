import { STATUS_CODES, maxHeaderSize, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** What Node's HTTP parser refused, in the words of our answer: HTTP status and a one-sentence detail. */
function answerOf(code: string | undefined, maxHeaderBytes: number): [number, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, `request line and headers are larger than ${maxHeaderBytes} bytes`];
    case 'HPE_INVALID_METHOD':
      return [405, 'HTTP method not understood: requests go with POST /, logs with GET'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'the request was not received in time'];
    default:
      return [400, `the request is not valid HTTP (${code ?? 'parse error'})`];
  }
}

/**
 * Answers what Node's HTTP parser refuses (unknown verbs, headers or URLs over `maxHeaderSize`, malformed
 * requests, an `Expect` it does not meet) in the spec's `failed` JSON shape instead of Node's bare, empty 400/431, then closes the
 * connection. Attach it to the server that serves `createApp`'s callback.
 */
export function answerClientErrors(server: Server): Server {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A peer that reset the connection, or one we already answered, gets nothing more.
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, detail] = answerOf(error.code, maxHeaderSize);
    const body = JSON.stringify({ request: null, result: { status: 'failed', message: 'request failed', error: { code: 'invalid_request', detail } } });
    // The route is unknown here: Allow names what some route takes (POST / and GET on the logs route).
    const allow = status === 405 ? 'Allow: GET, HEAD, POST, OPTIONS\r\n' : '';
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n${allow}` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  // An `Expect` other than 100-continue: Node would answer a bare 417.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const detail = `Expect: ${String(req.headers.expect).slice(0, 100)} is not supported`;
    const body = JSON.stringify({ request: null, result: { status: 'failed', message: 'request failed', error: { code: 'invalid_request', detail } } });
    res.writeHead(417, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    res.end(body);
  });
  return server;
}
