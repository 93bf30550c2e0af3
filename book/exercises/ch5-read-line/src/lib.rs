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
pub async fn read_exact(stream: &TcpStream, buf: &mut [u8]) -> io::Result<()> {
    // Your code: read until `buf` is full; a read of 0 bytes means the
    // peer has closed.
    let _ = (stream, buf);
    todo!()
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
        // Your code: return a line from `self.buf` if a whole one is there,
        // else read more into it, and see to the end of file.
        let _ = (&self.stream, &mut self.buf);
        todo!()
    }
}
