//! Chapter 6 exercise: a channel whose sender lives on another thread.
//!
//! Write [`Sender::send`] and [`Receiver::recv`]: a thread of the program
//! sends, a task on exp6's scheduler receives, and a send wakes the task
//! through its waker, which ends the scheduler's wait in `poll(2)`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::task::Waker;

/// Makes a channel: the [`Sender`] may go to any thread, and be cloned; the
/// [`Receiver`] is awaited by a task.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(Shared {
        queue: VecDeque::new(),
        waker: None,
        senders: 1,
    }));
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

/// What the two ends share, under one lock.
#[allow(dead_code)] // Until your code reads the fields.
struct Shared<T> {
    /// Values sent and not received yet, oldest first.
    queue: VecDeque<T>,
    /// The waker of the task waiting in `recv`, if it is waiting.
    waker: Option<Waker>,
    /// How many senders are left: none means no value will come again.
    senders: usize,
}

/// Sends values to the [`Receiver`], from any thread.
pub struct Sender<T> {
    shared: Arc<Mutex<Shared<T>>>,
}

/// Receives, in a task, the values the [`Sender`]s send.
pub struct Receiver<T> {
    shared: Arc<Mutex<Shared<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value`, never waiting: the queue has no bound. Wakes the
    /// receiving task if it waits.
    pub fn send(&self, value: T) {
        // Your code: queue `value`, and wake the receiver if it waits
        // (`Drop`, below, wakes it too: see where it calls `wake`).
        let _ = (&self.shared, value);
        todo!()
    }
}

impl<T> Receiver<T> {
    /// The next value, waiting for one; `None` once every sender is gone
    /// and every value was received.
    pub async fn recv(&mut self) -> Option<T> {
        // Your code: a value if one is queued, `None` if no sender is left,
        // else leave the task's waker and wait.
        let _ = &self.shared;
        todo!()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().unwrap().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    /// The last sender gone wakes the receiver, so it sees the end.
    fn drop(&mut self) {
        let waker = {
            let mut shared = self.shared.lock().unwrap();
            shared.senders -= 1;
            if shared.senders > 0 {
                return;
            }
            shared.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}
