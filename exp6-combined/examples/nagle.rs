//! What Nagle's algorithm and delayed acknowledgements cost a protocol of
//! small writes, for the book's page "Using exp6 as a library": a client
//! sends a request in two writes, the server answers in two writes, 50 times
//! over loopback, with `TCP_NODELAY` set on neither end, on one, and on
//! both. Prints the median, shortest and longest exchange of each.
//!
//! `cargo run --release -p exp6-combined --example nagle`

use std::time::{Duration, Instant};

use exp6_combined::net::{TcpListener, TcpStream};
use exp6_combined::{run, spawn, task};

/// Exchanges per case.
const EXCHANGES: usize = 50;

fn main() {
    for (client_nodelay, server_nodelay) in
        [(false, false), (true, false), (false, true), (true, true)]
    {
        run(vec![task(async move {
            let mut times = exchanges(client_nodelay, server_nodelay).await;
            times.sort();
            let ms = |time: Duration| time.as_secs_f64() * 1000.0;
            println!(
                "TCP_NODELAY on the client {client_nodelay:5}, on the server {server_nodelay:5}: \
                 median {:.2} ms, shortest {:.2} ms, longest {:.2} ms",
                ms(times[EXCHANGES / 2]),
                ms(times[0]),
                ms(times[EXCHANGES - 1]),
            );
        })]);
    }
}

/// How long each of `EXCHANGES` requests took to be answered.
async fn exchanges(client_nodelay: bool, server_nodelay: bool) -> Vec<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(server_nodelay).unwrap();
        let mut buf = [0; 64];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            // One answer per request's end, in two small writes.
            for _ in buf[..n].iter().filter(|&&byte| byte == b'\n') {
                stream.write_all(b"o").await.unwrap();
                stream.write_all(b"k\n").await.unwrap();
            }
        }
    });
    let client = TcpStream::connect(addr).await.unwrap();
    client.set_nodelay(client_nodelay).unwrap();
    let mut times = Vec::with_capacity(EXCHANGES);
    for _ in 0..EXCHANGES {
        let start = Instant::now();
        client.write_all(b"a").await.unwrap();
        client.write_all(b"b\n").await.unwrap();
        let mut answer = Vec::new();
        let mut buf = [0; 64];
        while !answer.ends_with(b"k\n") {
            let n = client.read(&mut buf).await.unwrap();
            assert_ne!(n, 0, "the server closed");
            answer.extend_from_slice(&buf[..n]);
        }
        times.push(start.elapsed());
    }
    client.shutdown_write().unwrap();
    server.await;
    times
}
