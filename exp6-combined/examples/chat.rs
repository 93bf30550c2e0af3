//! A small chat server on exp6: clients connect, and every line one of them
//! sends goes to all the others, prefixed with the sender's number.
//!
//! `cargo run -p exp6-combined --example chat` runs the demo: the server and
//! four clients in one `run`, each client sending 100 lines. Every client
//! checks that it got every other client's lines, whole and in order; the
//! server accepts four connections and then stops accepting, so `run`
//! returns once the clients have left, and the example exits 0.
//!
//! `cargo run -p exp6-combined --example chat -- --serve 127.0.0.1:7000`
//! serves until killed, for `nc 127.0.0.1 7000` in a few terminals. Its
//! accept loop never ends, so neither does `run`.
//!
//! What it shows (the book's page "Using exp6 as a library" says more):
//! - one writer per stream: each connection has one task that writes to it,
//!   fed by an outbox, so two senders' lines never interleave;
//! - an outbox is a queue and a waker, the smallest channel there is, since
//!   exp6 has none;
//! - shutting down: the accept loop ends after a number of clients, each
//!   connection's tasks end when its client closes, and `run` returns;
//! - `set_nodelay(true)` on the clients, whose lines are small writes.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::env;
use std::future::poll_fn;
use std::io;
use std::process;
use std::rc::Rc;
use std::task::{Poll, Waker};

use exp6_combined::net::{TcpListener, TcpStream};
use exp6_combined::{run, spawn, task};

/// The demo's clients, and the lines each sends.
const CLIENTS: usize = 4;
const LINES: usize = 100;

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    match args.as_slice() {
        [] => demo(),
        [flag, addr] if flag == "--serve" => {
            let listener = TcpListener::bind(addr.as_str()).unwrap_or_else(|err| {
                eprintln!("chat: cannot listen on {addr}: {err}");
                process::exit(1);
            });
            println!("chat: listening on {}", listener.local_addr().unwrap());
            run(vec![task(serve(listener, None))]);
        }
        _ => {
            eprintln!("usage: chat [--serve ADDR]");
            process::exit(2);
        }
    }
}

/// The server and `CLIENTS` clients in one `run`; panics if a line is lost,
/// changed or out of order.
fn demo() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let finished = Rc::new(Cell::new(0));
    let mut tasks = vec![task(serve(listener, Some(CLIENTS)))];
    tasks.extend((0..CLIENTS).map(|name| {
        let finished = finished.clone();
        task(async move {
            chatter(port, name).await.unwrap();
            finished.set(finished.get() + 1);
        })
    }));
    run(tasks);
    assert_eq!(finished.get(), CLIENTS);
    println!(
        "chat: {CLIENTS} clients sent {LINES} lines each, and each got all the others' lines in order"
    );
}

/// The clients in the room, by connection number, each with its outbox.
type Room = Rc<RefCell<BTreeMap<usize, Rc<Outbox>>>>;

/// Accepts clients, `limit` of them if given, each served by a task of its
/// own. With a limit the loop ends, and `run` can return once the clients'
/// tasks have; without one it never does.
async fn serve(listener: TcpListener, limit: Option<usize>) {
    let room = Room::default();
    let mut accepted = 0;
    while limit.is_none_or(|limit| accepted < limit) {
        match listener.accept().await {
            Ok((stream, _)) => {
                accepted += 1;
                spawn(session(accepted, stream, room.clone()));
            }
            Err(err) => eprintln!("chat: accept failed: {err}"),
        }
    }
}

/// One client's connection: its lines go to everyone else's outbox, and a
/// second task writes its own outbox to it.
async fn session(id: usize, stream: TcpStream, room: Room) {
    let stream = Rc::new(stream);
    let outbox = Rc::new(Outbox::default());
    let writer = spawn(write_outbox(stream.clone(), outbox.clone()));
    room.borrow_mut().insert(id, outbox.clone());
    let here = room.borrow().len();
    broadcast(&room, None, format!("* {here} here\n"));
    let mut lines = Lines::new(&stream);
    while let Ok(Some(line)) = lines.next().await {
        broadcast(&room, Some(id), format!("[{id}] {line}\n"));
    }
    room.borrow_mut().remove(&id);
    outbox.close();
    writer.await;
}

/// Posts `line` to every outbox in the room but `from`'s.
fn broadcast(room: &Room, from: Option<usize>, line: String) {
    let line: Rc<str> = line.into();
    for (&id, outbox) in room.borrow().iter() {
        if Some(id) != from {
            outbox.post(line.clone());
        }
    }
}

/// The only task that writes to `stream`: a line is written whole before
/// the next one starts, however many writes and waits it takes.
async fn write_outbox(stream: Rc<TcpStream>, outbox: Rc<Outbox>) {
    while let Some(line) = outbox.next().await {
        if stream.write_all(line.as_bytes()).await.is_err() {
            // The client is gone; its reader will see it too.
            outbox.close();
            return;
        }
    }
}

/// Lines waiting for one connection's writer, and the writer's waker while
/// it waits for one: a channel for one thread, in a few lines.
#[derive(Default)]
struct Outbox {
    state: RefCell<OutboxState>,
}

#[derive(Default)]
struct OutboxState {
    lines: VecDeque<Rc<str>>,
    closed: bool,
    writer: Option<Waker>,
}

impl Outbox {
    /// Queues `line`, unless the outbox is closed, and wakes the writer.
    fn post(&self, line: Rc<str>) {
        let mut state = self.state.borrow_mut();
        if !state.closed {
            state.lines.push_back(line);
        }
        if let Some(writer) = state.writer.take() {
            writer.wake();
        }
    }

    /// No more lines: the writer's `next` returns `None` once the queue is
    /// empty.
    fn close(&self) {
        let mut state = self.state.borrow_mut();
        state.closed = true;
        if let Some(writer) = state.writer.take() {
            writer.wake();
        }
    }

    /// The next line, waiting for one; `None` once closed and empty.
    async fn next(&self) -> Option<Rc<str>> {
        poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            if let Some(line) = state.lines.pop_front() {
                Poll::Ready(Some(line))
            } else if state.closed {
                Poll::Ready(None)
            } else {
                state.writer = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// Reads a stream line by line.
struct Lines<'a> {
    stream: &'a TcpStream,
    buf: Vec<u8>,
}

impl<'a> Lines<'a> {
    fn new(stream: &'a TcpStream) -> Self {
        Lines {
            stream,
            buf: Vec::new(),
        }
    }

    /// The next line, without its newline; `None` at the end of the stream.
    async fn next(&mut self) -> io::Result<Option<String>> {
        loop {
            if let Some(end) = self.buf.iter().position(|&byte| byte == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=end).take(end).collect();
                return String::from_utf8(line)
                    .map(Some)
                    .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err));
            }
            let mut chunk = [0; 4096];
            match self.stream.read(&mut chunk).await? {
                0 => return Ok(None),
                n => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

/// One demo client, `c{name}`: waits until all `CLIENTS` are in the room,
/// sends `LINES` lines, and checks that it gets every other client's lines,
/// numbered 0, 1, 2... in order. Then it leaves, and waits for the server to
/// close its side.
async fn chatter(port: u16, name: usize) -> io::Result<()> {
    // A name, not an address: `connect` tries each address it resolves to.
    let stream = TcpStream::connect(("localhost", port)).await?;
    // Each line is one small write: without this, a write sent while the
    // previous one is unacknowledged waits (Nagle's algorithm).
    stream.set_nodelay(true)?;
    let mut lines = Lines::new(&stream);
    let everyone = format!("* {CLIENTS} here");
    while lines.next().await?.ok_or_else(eof)? != everyone {}
    for number in 0..LINES {
        stream
            .write_all(format!("c{name} {number}\n").as_bytes())
            .await?;
    }
    let mut next_number = [0; CLIENTS];
    for _ in 0..(CLIENTS - 1) * LINES {
        let line = lines.next().await?.ok_or_else(eof)?;
        let (sender, number) = parse(&line).ok_or_else(|| invalid(&line))?;
        if sender == name || sender >= CLIENTS || number != next_number[sender] {
            return Err(invalid(&line));
        }
        next_number[sender] += 1;
    }
    stream.shutdown_write()?;
    match lines.next().await? {
        None => Ok(()),
        Some(line) => Err(invalid(&line)),
    }
}

/// `[3] c1 17` as `(1, 17)`.
fn parse(line: &str) -> Option<(usize, usize)> {
    let (_, text) = line.split_once("] c")?;
    let (sender, number) = text.split_once(' ')?;
    Some((sender.parse().ok()?, number.parse().ok()?))
}

fn eof() -> io::Error {
    io::ErrorKind::UnexpectedEof.into()
}

fn invalid(line: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unexpected line {line:?}"),
    )
}
