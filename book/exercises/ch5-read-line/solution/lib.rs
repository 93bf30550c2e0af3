//! Chapter 5 exercise: `read_exact` and a line reader over exp5's TcpStream.
//!
//! Write [`read_exact`], which reads until the buffer is full, and
//! [`LineReader::read_line`], which returns one line at a time, keeping the
//! bytes read past the line's end for the next call.

use std::io;

use exp5_selectors::net::TcpStream;

/// Reads exactly `buf.len()` bytes into `buf`, over as many reads as it
/// takes. If the peer closes first, fails with
/// [`io::ErrorKind::UnexpectedEof`]; how much of `buf` was filled then is
/// unknown.
pub async fn read_exact(stream: &TcpStream, mut buf: &mut [u8]) -> io::Result<()> {
    // A read returns what has arrived, which may be less than asked for:
    // the mirror image of `write_all`.
    while !buf.is_empty() {
        let n = stream.read(buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
    }
    Ok(())
}

/// Reads a stream line by line.
pub struct LineReader {
    stream: TcpStream,
    /// Bytes read but not returned yet: the start of the next line, or more.
    buf: Vec<u8>,
}

impl LineReader {
    /// A reader of `stream`'s lines.
    pub fn new(stream: TcpStream) -> Self {
        LineReader {
            stream,
            buf: Vec::new(),
        }
    }

    /// The next line, without its `b'\n'`, waiting until it has all
    /// arrived. `None` once the peer has closed and every line was returned;
    /// a last line with no `b'\n'` is returned as it is.
    pub async fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            // One read may bring several lines, or part of one: a line is
            // returned only once its end is here, and what follows it waits
            // in `buf` for the next call.
            if let Some(end) = self.buf.iter().position(|&byte| byte == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                return Ok(Some(line));
            }
            let mut chunk = [0; 1024];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                let rest = std::mem::take(&mut self.buf);
                return Ok((!rest.is_empty()).then_some(rest));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}
