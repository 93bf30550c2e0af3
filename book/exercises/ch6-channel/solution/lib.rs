//! Chapter 6 exercise: a channel whose sender lives on another thread.
//!
//! Write [`Sender::send`] and [`Receiver::recv`]: a thread of the program
//! sends, a task on exp6's scheduler receives, and a send wakes the task
//! through its waker, which ends the scheduler's wait in `poll(2)`.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

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
        let waker = {
            let mut shared = self.shared.lock().unwrap();
            shared.queue.push_back(value);
            shared.waker.take()
        };
        // Woken outside the lock: the wake may run the scheduler's code (its
        // ready queue, the self-wake write), which needs no lock of ours.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// The next value, waiting for one; `None` once every sender is gone
    /// and every value was received.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| {
            let mut shared = self.shared.lock().unwrap();
            if let Some(value) = shared.queue.pop_front() {
                return Poll::Ready(Some(value));
            }
            if shared.senders == 0 {
                return Poll::Ready(None);
            }
            // Left under the same lock as the check: a send after it finds
            // the waker, so no value can slip in unseen between the two.
            shared.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
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
