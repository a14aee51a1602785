//! How many WebSocket connections are open, overall and per client address, so that no one client (and no
//! crowd) can hold more than this instance is configured to carry; and their tasks, so that a stopping server can
//! tell each to say goodbye and wait for it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The open sockets of this instance and their caps.
#[derive(Debug)]
pub struct Sockets {
    max_total: usize,
    max_per_ip: usize,
    open: Mutex<Open>,
    /// Flips to true when the server starts shutting down: every socket is closed with 1001 so clients reconnect.
    closing: tokio::sync::watch::Sender<bool>,
    /// The sockets' tasks, so shutdown can wait for their goodbyes.
    tasks: tokio_util::task::TaskTracker,
}

/// Sockets open now: in all, and per address.
#[derive(Debug, Default)]
struct Open {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// One open socket; dropping it frees the place.
#[derive(Debug)]
pub struct Slot {
    sockets: Arc<Sockets>,
    ip: IpAddr,
}

impl Sockets {
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Sockets {
            max_total,
            max_per_ip,
            open: Mutex::new(Open::default()),
            closing: tokio::sync::watch::channel(false).0,
            tasks: tokio_util::task::TaskTracker::new(),
        })
    }

    /// Runs one socket's task, tracked for shutdown.
    pub fn track<F: std::future::Future + Send + 'static>(
        &self,
        task: F,
    ) -> impl std::future::Future<Output = F::Output>
    where
        F::Output: Send + 'static,
    {
        self.tasks.track_future(task)
    }

    /// Told `true` when the server starts shutting down.
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Tells every socket to close, then waits (at most `patience`) for their goodbyes to be sent.
    pub async fn close_all(&self, patience: std::time::Duration) {
        let _ = self.closing.send(true);
        self.tasks.close();
        let _ = tokio::time::timeout(patience, self.tasks.wait()).await;
    }

    /// A place for a new socket from `ip`, or why there is none.
    pub fn open(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, String> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.total >= self.max_total {
            return Err(format!(
                "this server holds its maximum of {} WebSocket connections; retry later",
                self.max_total
            ));
        }
        let mine = open.per_ip.entry(ip).or_default();
        if *mine >= self.max_per_ip {
            return Err(format!(
                "your address already holds {} WebSocket connections, the most allowed; close one or share it",
                self.max_per_ip
            ));
        }
        *mine += 1;
        open.total += 1;
        Ok(Slot { sockets: self.clone(), ip })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.sockets.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.per_ip.remove(&self.ip);
            }
            open.total -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_per_address_and_overall_and_freed_on_drop() {
        let sockets = Sockets::new(3, 2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = sockets.open(a).unwrap();
        let _second = sockets.open(a).unwrap();
        assert!(sockets.open(a).unwrap_err().contains("your address"));
        let _third = sockets.open(b).unwrap();
        assert!(sockets.open(b).unwrap_err().contains("maximum of 3"));
        drop(first);
        sockets.open(b).unwrap();
    }
}
