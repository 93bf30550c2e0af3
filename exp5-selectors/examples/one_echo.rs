//! A small scene for the book's timeline picture of this stage: one echo
//! connection, two round trips 20 ms apart. Each step waits for one socket,
//! so the trace shows the scheduler blocked in `poll(2)` and one fd turning
//! ready at a time, in the same order every run.
//!
//! `EXP_TRACE=1 cargo run -q -p exp5-selectors --example one_echo 2> t.log`,
//! then `cargo run -p book -- timeline t.log > t.svg`.

use std::time::Duration;

use exp5_selectors::net::{TcpListener, TcpStream};
use exp5_selectors::{run, sleep, task, trace_start};

fn main() {
    trace_start();
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen on a free loopback port");
    let addr = listener.local_addr().expect("the listener's address");
    let server = task(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let mut buf = [0; 4];
        for _ in 0..2 {
            let mut filled = 0;
            while filled < buf.len() {
                filled += stream.read(&mut buf[filled..]).await.expect("read");
            }
            stream.write_all(&buf).await.expect("write");
        }
    });
    let client = task(async move {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let mut buf = [0; 4];
        for message in [b"ping", b"pong"] {
            sleep(Duration::from_millis(20)).await;
            stream.write_all(message).await.expect("write");
            let mut filled = 0;
            while filled < buf.len() {
                filled += stream.read(&mut buf[filled..]).await.expect("read");
            }
            assert_eq!(&buf, message);
        }
        println!("two round trips echoed");
    });
    run(vec![server, client]);
}
