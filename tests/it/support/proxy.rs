//! A misbehaving HTTP/1.1 proxy on loopback, in front of a [`super::Registry`].
//!
//! Point the command under test at [`FaultProxy::host`] instead of the
//! registry: every request is forwarded (one request per connection, the
//! answer always carries `Connection: close`) and recorded with its method,
//! path and `Range` header. [`Rule`]s pick requests by method, path and
//! ordinal (the Nth request for that method and path, counting from 1) and
//! apply [`Fault`]s to them: answer a status without asking the registry
//! (with a `Retry-After` if asked), drop the `Range` header so the registry
//! sends the whole blob, flip body bytes, cut the connection after some
//! body bytes, or stall after some body bytes until the client gives up.
//!
//! Plain `std::net` threads; it listens on 127.0.0.1 only. Body faults
//! count bytes after the response head, i.e. they assume an identity-framed
//! body (`Content-Length`), which is how the registry serves blobs.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a connection may stay silent before the proxy gives up on it.
const IDLE: Duration = Duration::from_secs(60);
/// How long the proxy waits for the client to close after a cut.
const LINGER: Duration = Duration::from_secs(5);
/// Largest request or response head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// What the proxy does to one request or its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answers this status itself (429 and 5xx with a registry-style JSON
    /// error body), without forwarding the request.
    Status(u16),
    /// Forwards the request without its `Range` header, so the registry
    /// answers `200` with the whole blob.
    IgnoreRange,
    /// XORs the response body bytes at these offsets (counted from the
    /// first body byte of this response) with 0xFF.
    Flip(Range<u64>),
    /// Sends the response head and the first N body bytes, then closes
    /// the connection.
    CutAfter(u64),
    /// Sends the response head and the first N body bytes, then nothing
    /// more, keeping the connection open until the client closes it (or
    /// 60 s of silence pass).
    StallAfter(u64),
    /// With [`Fault::Status`]: the answer carries `Retry-After: N`.
    RetryAfter(u64),
}

/// Which requests a rule applies to and what it does to them.
#[derive(Debug, Clone)]
pub struct Rule {
    method: String,
    path: String,
    /// `None`: every matching request; `Some(n)`: only the nth (from 1).
    nth: Option<usize>,
    faults: Vec<Fault>,
}

impl Rule {
    /// A rule for `GET path` (path without query), applying to every such
    /// request until narrowed with [`Rule::nth`].
    pub fn get(path: &str) -> Self {
        Rule {
            method: "GET".to_string(),
            path: path.to_string(),
            nth: None,
            faults: Vec::new(),
        }
    }

    /// Only the nth matching request (counting from 1).
    pub fn nth(mut self, n: usize) -> Self {
        assert!(n >= 1, "requests are counted from 1");
        self.nth = Some(n);
        self
    }

    /// Adds a fault.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }
}

/// One request the proxy received, and how it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    /// The request target without its query.
    pub path: String,
    /// The `Range` header as the client sent it.
    pub range: Option<String>,
    /// The status the proxy answered (0 when the registry could not be reached).
    pub status: u16,
    /// The faults applied to it.
    pub faults: Vec<Fault>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
}

/// A running fault-injecting proxy; dropped = stopped.
pub struct FaultProxy {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on a free 127.0.0.1 port and forwards to `upstream`
    /// (`127.0.0.1:PORT`, e.g. [`super::Registry::host`]).
    pub fn start(upstream: &str) -> FaultProxy {
        assert!(
            upstream.starts_with("127.0.0.1:") || upstream.starts_with("localhost:"),
            "the proxy only forwards to loopback, not {upstream}"
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            let upstream = upstream.to_string();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let state = Arc::clone(&state);
                    let upstream = upstream.clone();
                    std::thread::spawn(move || {
                        // A client that went away mid-answer is not the test's concern.
                        let _ = serve(conn, &upstream, &state);
                    });
                }
            })
        };
        FaultProxy {
            port,
            state,
            stop,
            acceptor: Some(acceptor),
        }
    }

    /// `127.0.0.1:PORT`, the proxy as a registry host in image references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `127.0.0.1:PORT/<repo_tag>`.
    pub fn reference(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.host())
    }

    /// Adds a rule; rules apply in the order added, all that match.
    pub fn rule(&self, rule: Rule) {
        self.lock().rules.push(rule);
    }

    /// Every request so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    /// The requests so far for `method path`, in arrival order.
    pub fn seen_for(&self, method: &str, path: &str) -> Vec<Seen> {
        self.lock()
            .seen
            .iter()
            .filter(|s| s.method == method && s.path == path)
            .cloned()
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// A parsed request or response head.
pub(crate) struct Head {
    /// Request line or status line.
    pub first: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn content_length(&self) -> io::Result<u64> {
        match self.header("content-length") {
            None => Ok(0),
            Some(v) => v.trim().parse().map_err(|_| bad("bad Content-Length")),
        }
    }

    /// The head as sent, without `Connection`/`Keep-Alive` and the
    /// `skip`ped headers, with `Connection: close`.
    fn render(&self, skip: &[&str]) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.first);
        for (name, value) in &self.headers {
            let dropped = ["connection", "keep-alive"]
                .iter()
                .chain(skip)
                .any(|s| name.eq_ignore_ascii_case(s));
            if !dropped {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        out.push_str("Connection: close\r\n\r\n");
        out.into_bytes()
    }
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

/// Reads a head up to the blank line; `None` at a clean end of stream.
pub(crate) fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut lines = Vec::new();
    let mut total = 0;
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        if n == 0 {
            return if lines.is_empty() {
                Ok(None)
            } else {
                Err(bad("end of stream inside a head"))
            };
        }
        total += n;
        if total > MAX_HEAD {
            return Err(bad("head too large"));
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        lines.push(line);
    }
    let mut lines = lines.into_iter();
    let first = lines.next().ok_or_else(|| bad("empty head"))?;
    let headers = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    Ok(Some(Head { first, headers }))
}

/// Handles one client connection: one request, one answer.
fn serve(client: TcpStream, upstream: &str, state: &Mutex<State>) -> io::Result<()> {
    client.set_read_timeout(Some(IDLE))?;
    client.set_write_timeout(Some(IDLE))?;
    let mut client_in = BufReader::new(client.try_clone()?);
    let mut client_out = client;
    let Some(request) = read_head(&mut client_in)? else {
        return Ok(());
    };
    let mut body = vec![0; usize::try_from(request.content_length()?).map_err(|_| bad("body"))?];
    client_in.read_exact(&mut body)?;

    let mut words = request.first.split_whitespace();
    let method = words.next().unwrap_or_default().to_string();
    let target = words.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_string();
    let range = request.header("range").map(str::to_string);
    let (index, faults) = {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        let ordinal = 1 + state
            .seen
            .iter()
            .filter(|s| s.method == method && s.path == path)
            .count();
        let faults: Vec<Fault> = state
            .rules
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .filter(|r| r.nth.is_none_or(|n| n == ordinal))
            .flat_map(|r| r.faults.iter().cloned())
            .collect();
        state.seen.push(Seen {
            method: method.clone(),
            path: path.clone(),
            range,
            status: 0,
            faults: faults.clone(),
        });
        (state.seen.len() - 1, faults)
    };
    let record_status = |status: u16| {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        state.seen[index].status = status;
    };

    if let Some(status) = faults.iter().find_map(|f| match f {
        Fault::Status(s) => Some(*s),
        _ => None,
    }) {
        let retry_after = faults.iter().find_map(|f| match f {
            Fault::RetryAfter(s) => Some(*s),
            _ => None,
        });
        record_status(status);
        client_out.write_all(&status_answer(status, retry_after))?;
        return linger(client_out, client_in);
    }

    let ignore_range = faults.contains(&Fault::IgnoreRange);
    let skip: &[&str] = if ignore_range { &["range"] } else { &[] };
    let mut registry = TcpStream::connect(upstream)?;
    registry.set_read_timeout(Some(IDLE))?;
    registry.set_write_timeout(Some(IDLE))?;
    registry.write_all(&request.render(skip))?;
    registry.write_all(&body)?;
    registry.flush()?;

    let mut registry_in = BufReader::new(registry);
    let response = read_head(&mut registry_in)?.ok_or_else(|| bad("no response"))?;
    let status = response
        .first
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    record_status(status);
    client_out.write_all(&response.render(&[]))?;

    let cut = faults.iter().find_map(|f| match f {
        Fault::CutAfter(n) | Fault::StallAfter(n) => Some(*n),
        _ => None,
    });
    let stall = faults.iter().any(|f| matches!(f, Fault::StallAfter(_)));
    let flips: Vec<Range<u64>> = faults
        .iter()
        .filter_map(|f| match f {
            Fault::Flip(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    let mut offset = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut n = registry_in.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if let Some(cut) = cut {
            n = n.min(usize::try_from(cut.saturating_sub(offset)).unwrap_or(usize::MAX));
        }
        for range in &flips {
            for at in range.start.max(offset)..range.end.min(offset + n as u64) {
                buf[(at - offset) as usize] ^= 0xff;
            }
        }
        client_out.write_all(&buf[..n])?;
        offset += n as u64;
        if cut.is_some_and(|cut| offset >= cut) {
            break;
        }
    }
    client_out.flush()?;
    if stall {
        // Silence: the client's read of the rest waits until it gives up.
        let mut sink = [0u8; 4096];
        while matches!(client_in.read(&mut sink), Ok(n) if n > 0) {}
        return Ok(());
    }
    linger(client_out, client_in)
}

/// Closes the client connection gracefully: FIN after everything written,
/// then waits for the client to close its side, so that no unread input
/// turns the close into a reset that could discard bytes already sent.
fn linger(client_out: TcpStream, mut client_in: BufReader<TcpStream>) -> io::Result<()> {
    client_out.shutdown(Shutdown::Write)?;
    client_out.set_read_timeout(Some(LINGER))?;
    let mut sink = [0u8; 4096];
    while matches!(client_in.read(&mut sink), Ok(n) if n > 0) {}
    Ok(())
}

/// A complete answer with `status`, a registry-style error body and
/// `Retry-After` if given.
fn status_answer(status: u16, retry_after: Option<u64>) -> Vec<u8> {
    let reason = match status {
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Injected",
    };
    let body = status_body(status);
    let retry_after = retry_after
        .map(|s| format!("Retry-After: {s}\r\n"))
        .unwrap_or_default();
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n{retry_after}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The registry-style JSON error body of a [`Fault::Status`] answer.
pub fn status_body(status: u16) -> String {
    let code = match status {
        429 => "TOOMANYREQUESTS",
        502..=504 => "UNAVAILABLE",
        _ => "UNKNOWN",
    };
    format!("{{\"errors\":[{{\"code\":\"{code}\",\"message\":\"injected by the test proxy\"}}]}}")
}
