import { createServer } from 'node:net';

/** A port free on 127.0.0.1 just now, for a child process to listen on: it cannot tell us a port 0 picked for it. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
