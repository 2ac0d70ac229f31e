//! Work that takes tens of milliseconds (argon2id password hashing, competence imports) run on
//! a thread of its own, with a future that completes when it is done. uniffi drives the future
//! from the caller's own executor (Swift's concurrency, Python's asyncio), so no Rust async
//! runtime is needed, and a `std::thread` with a one-shot slot is all it takes.

use crate::error::EsrError;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

/// The answer, once the thread has it, and the waker of the task waiting for it.
struct Slot<T> {
    answer: Option<Result<T, EsrError>>,
    waker: Option<Waker>,
}

/// The future of [`off_thread`].
struct OffThread<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Future for OffThread<T> {
    type Output = Result<T, EsrError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.answer.take() {
            Some(answer) => Poll::Ready(answer),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Runs `work` on a new thread; the future completes with its answer. A panic in `work` comes
/// back as [`EsrError::Internal`]; dropping the future lets the work finish unobserved.
pub(crate) fn off_thread<T, F>(work: F) -> impl Future<Output = Result<T, EsrError>> + Send
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, EsrError> + Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot {
        answer: None,
        waker: None,
    }));
    let theirs = slot.clone();
    let finish = move |answer: Result<T, EsrError>| {
        let waker = {
            let mut s = theirs.lock().unwrap_or_else(PoisonError::into_inner);
            s.answer = Some(answer);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    };
    let spawned = std::thread::Builder::new()
        .name("esr-work".to_owned())
        .spawn(move || {
            let answer = catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| {
                Err(EsrError::Internal {
                    message: "the library panicked while working off the caller's thread; nothing was returned".to_owned(),
                })
            });
            finish(answer);
        });
    if let Err(e) = spawned {
        let mut s = slot.lock().unwrap_or_else(PoisonError::into_inner);
        s.answer = Some(Err(EsrError::Storage {
            message: format!(
                "could not start a thread for the work ({e}); nothing was changed. Retry"
            ),
        }));
    }
    OffThread { slot }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Wake;

    struct Flag(std::sync::atomic::AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn block_on<T>(f: impl Future<Output = T>) -> T {
        let flag = Arc::new(Flag(false.into()));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn the_answer_and_a_panic_come_back() {
        assert_eq!(block_on(off_thread(|| Ok(41 + 1))), Ok(42));
        let e = block_on(off_thread(|| -> Result<(), EsrError> { panic!("boom") }));
        assert!(matches!(e, Err(EsrError::Internal { .. })), "{e:?}");
    }
}
