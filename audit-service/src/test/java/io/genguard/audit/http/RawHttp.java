package io.genguard.audit.http;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP/1.0 request over a plain socket, sent exactly as written: an HTTP client would normalize
 * or refuse the very paths, escapes and headers the API tests send. HTTP/1.0, so the answer is
 * never chunked.
 */
final class RawHttp {
  private RawHttp() {}

  /** The answer: status, the head's header lines and the body. */
  record Answer(int status, String headers, String body) {
    String header(String name) {
      for (String line : headers.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
          return line.substring(colon + 1).trim();
        }
      }
      return null;
    }
  }

  /**
   * Sends {@code requestLine} ("GET /path"), then {@code headers} (each line ending in CRLF), then
   * {@code body}.
   */
  static Answer send(int port, String requestLine, String headers, String body) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          (requestLine + " HTTP/1.0\r\nHost: 127.0.0.1\r\n" + headers + "\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.write(body.getBytes(StandardCharsets.UTF_8));
      out.flush();
      String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int end = response.indexOf("\r\n\r\n");
      String head = end < 0 ? response : response.substring(0, end);
      return new Answer(
          Integer.parseInt(head.split("\r\n", 2)[0].split(" ")[1]),
          head,
          end < 0 ? "" : response.substring(end + 4));
    }
  }
}
