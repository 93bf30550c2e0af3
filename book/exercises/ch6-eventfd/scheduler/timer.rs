//! Timers: [`sleep`], and the deadlines the scheduler waits for.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::{TaskId, try_with_current, with_current};

/// A timer's key: its deadline, then a sequence number that keeps timers with
/// the same deadline in the order they were set, and makes every key unique.
type TimerKey = (Instant, u64);

/// The timers of sleeping tasks, earliest deadline first.
///
/// A `BTreeMap` rather than a `BinaryHeap`: a sleep that is dropped before its
/// deadline removes its own timer by key, so a timer nobody waits for never
/// keeps the scheduler asleep.
#[derive(Default)]
pub(crate) struct Timers {
    /// Each timer's task, for the trace, and the waker to wake.
    wakers: BTreeMap<TimerKey, (TaskId, Waker)>,
    next_seq: u64,
}

impl Timers {
    /// A fresh key for a timer due at `deadline`.
    fn key(&mut self, deadline: Instant) -> TimerKey {
        self.next_seq += 1;
        (deadline, self.next_seq)
    }

    /// Sets the timer `key` of task `task` to wake `waker`, replacing the
    /// waker it had: a future must wake the waker it was most recently
    /// polled with.
    fn set(&mut self, key: TimerKey, task: TaskId, waker: &Waker) {
        self.wakers
            .entry(key)
            .and_modify(|(_, old)| old.clone_from(waker))
            .or_insert_with(|| (task, waker.clone()));
    }

    /// Removes the timer `key`, if it has not fired yet.
    fn remove(&mut self, key: TimerKey) {
        self.wakers.remove(&key);
    }

    /// The earliest deadline of any pending timer.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.wakers
            .first_key_value()
            .map(|(&(deadline, _), _)| deadline)
    }

    /// Removes the earliest timer if its deadline has passed, and returns its
    /// task and waker. The clock is read only when a timer is pending: a
    /// loop that nobody sleeps in never pays for it.
    pub(crate) fn pop_due(&mut self) -> Option<(TaskId, Waker)> {
        let earliest = self.wakers.first_entry()?;
        (earliest.key().0 <= Instant::now()).then(|| earliest.remove())
    }
}

/// The longest sleep: about 30 years. Longer ones are cut to this, so that
/// `sleep(Duration::MAX)` sleeps "forever" instead of overflowing `Instant`.
const LONGEST_SLEEP: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// Waits until `duration` has passed; never less, since the scheduler wakes
/// a sleeping task only once its deadline is due.
///
/// The deadline is taken when `sleep` is called. Polling the future outside
/// [`run`](crate::run) panics: only a running scheduler has timers.
pub fn sleep(duration: Duration) -> impl Future<Output = ()> {
    Sleep {
        deadline: Instant::now() + duration.min(LONGEST_SLEEP),
        key: None,
    }
}

/// The future behind [`sleep`].
struct Sleep {
    deadline: Instant,
    /// The key of its timer, once it has set one.
    key: Option<TimerKey>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        with_current("sleep", |shared| {
            let mut timers = shared.timers.borrow_mut();
            if Instant::now() >= this.deadline {
                if let Some(key) = this.key.take() {
                    timers.remove(key); // polled before its timer fired
                }
                return Poll::Ready(());
            }
            let key = *this.key.get_or_insert_with(|| timers.key(this.deadline));
            timers.set(key, shared.polling.get(), cx.waker());
            Poll::Pending
        })
    }
}

impl Drop for Sleep {
    /// A sleep dropped before its deadline takes its timer with it.
    fn drop(&mut self) {
        if let Some(key) = self.key {
            try_with_current(|shared| shared.timers.borrow_mut().remove(key));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_with_one_deadline_fire_in_the_order_they_were_set() {
        let mut timers = Timers::default();
        let deadline = Instant::now();
        let wakers: Vec<Waker> = (0..3).map(|_| Waker::noop().clone()).collect();
        let keys: Vec<TimerKey> = wakers
            .iter()
            .map(|waker| {
                let key = timers.key(deadline);
                timers.set(key, 0, waker);
                key
            })
            .collect();
        let order: Vec<TimerKey> = std::iter::from_fn(|| {
            let key = *timers.wakers.first_key_value()?.0;
            timers.pop_due().map(|_| key)
        })
        .collect();
        assert_eq!(order, keys);
    }

    #[test]
    fn a_timer_is_not_due_before_its_deadline() {
        let mut timers = Timers::default();
        let later = timers.key(Instant::now() + Duration::from_secs(60));
        timers.set(later, 0, Waker::noop());
        assert!(timers.pop_due().is_none());
        let passed = timers.key(Instant::now());
        timers.set(passed, 0, Waker::noop());
        assert!(timers.pop_due().is_some());
        assert!(timers.pop_due().is_none());
    }
}
