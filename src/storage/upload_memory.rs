//! A cap on the bytes that single-request uploads hold in memory at once. Each reads its
//! whole object before the request (one request needs one body), and `jobs` of them run at
//! a time: without a cap, eight 200 MiB objects would take 1.6 GiB.

use std::sync::{Condvar, Mutex};

pub struct MemoryBudget {
    limit: u64,
    used: Mutex<u64>,
    freed: Condvar,
}

/// Bytes held until dropped.
pub struct Reservation<'a> {
    budget: &'a MemoryBudget,
    bytes: u64,
}

impl MemoryBudget {
    pub const fn new(limit: u64) -> MemoryBudget {
        MemoryBudget {
            limit,
            used: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Waits until `bytes` fit beside what others hold. A request bigger than the whole
    /// budget waits until nothing else is held, so it still goes, alone.
    pub fn reserve(&self, bytes: u64) -> Reservation<'_> {
        let mut used = self.used.lock().expect("memory budget lock");
        while *used > 0 && *used + bytes > self.limit {
            used = self.freed.wait(used).expect("memory budget lock");
        }
        *used += bytes;
        Reservation {
            budget: self,
            bytes,
        }
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut used = self.budget.used.lock().expect("memory budget lock");
        *used -= self.bytes;
        self.budget.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn holders_never_exceed_the_limit_and_oversized_requests_go_alone() {
        let budget = MemoryBudget::new(100);
        // What the holders hold, counted inside their reservations.
        let held = AtomicU64::new(0);
        std::thread::scope(|scope| {
            for bytes in [60, 60, 30, 150, 40, 60, 100] {
                let (budget, held) = (&budget, &held);
                scope.spawn(move || {
                    let _r = budget.reserve(bytes);
                    let now = held.fetch_add(bytes, Ordering::SeqCst) + bytes;
                    assert!(
                        now <= 100 || (bytes == 150 && now == 150),
                        "{now} bytes held at once"
                    );
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    held.fetch_sub(bytes, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(*budget.used.lock().unwrap(), 0);
    }
}
