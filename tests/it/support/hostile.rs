//! A hostile HTTP/1.1 server on a loopback address, playing a registry, a
//! token realm or a host redirected to: each request is answered with what
//! the test's handler returns, including answers no honest server gives
//! (a `Content-Length` of 10 GB, an endless chunked body, a body trickled
//! one byte a second), and recorded
//! with all its headers and its body, so a test can check what a client
//! sent where.
//!
//! Plain `std::net` threads, one request per connection. Every loop is
//! bounded: a body is written until the client hangs up or [`MAX_SENT`]
//! bytes went out, a silent connection is dropped after 60 s, and the
//! server stops on drop.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The most body bytes one answer writes, whatever it declares.
pub const MAX_SENT: u64 = 1 << 30;
/// The most request body bytes kept for the handler.
pub const MAX_RECEIVED: u64 = 16 << 20;
/// How long a connection may stay silent.
const IDLE: Duration = Duration::from_secs(60);

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    /// Header `(name, value)` pairs; names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body its `Content-Length` declared, up to [`MAX_RECEIVED`] bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// The target without its query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A complete answer.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// `200` declaring `Content-Length` N, then filler bytes for as long
    /// as the client reads (at most [`MAX_SENT`]).
    Declares(u64),
    /// `200`, chunked, filler chunks for as long as the client reads (at
    /// most [`MAX_SENT`]).
    Endless,
    /// `200` declaring this body's `Content-Length`, then the body one
    /// byte a second, for as long as the client reads.
    Trickle(Vec<u8>),
}

impl Answer {
    /// `status` with `body` and no other header.
    pub fn status(status: u16, body: &str) -> Answer {
        Answer::Full {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// Adds a header to a [`Answer::Full`].
    pub fn header(mut self, name: &str, value: &str) -> Answer {
        if let Answer::Full { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }
}

type Handler = dyn Fn(&Request) -> Answer + Send + Sync;

/// A running hostile server; dropped = stopped.
pub struct HostileServer {
    ip: String,
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl HostileServer {
    /// Listens on a free port of `ip` (a 127.0.0.0/8 address) and answers
    /// every request with `handler`.
    pub fn start(
        ip: &str,
        handler: impl Fn(&Request) -> Answer + Send + Sync + 'static,
    ) -> HostileServer {
        assert!(ip.starts_with("127."), "loopback only, not {ip}");
        let listener = TcpListener::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}:0: {e}"));
        let port = listener.local_addr().expect("local addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let acceptor = {
            let requests = Arc::clone(&requests);
            let sent = Arc::clone(&sent);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let requests = Arc::clone(&requests);
                    let sent = Arc::clone(&sent);
                    let handler = Arc::clone(&handler);
                    std::thread::spawn(move || {
                        // A client that hangs up mid-answer is what these
                        // answers are for.
                        let _ = serve(conn, &*handler, &requests, &sent);
                    });
                }
            })
        };
        HostileServer {
            ip: ip.to_string(),
            port,
            requests,
            sent,
            stop,
            acceptor: Some(acceptor),
        }
    }

    /// `IP:PORT`.
    pub fn host(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    /// `http://IP:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Body bytes written to clients so far, all answers together.
    pub fn body_bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag.
        let _ = TcpStream::connect((self.ip.as_str(), self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Reads one request head; `None` at a clean end of stream.
fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Request>> {
    let Some(head) = super::proxy::read_head(reader)? else {
        return Ok(None);
    };
    let mut words = head.first.split_whitespace();
    let method = words.next().unwrap_or_default().to_string();
    let target = words.next().unwrap_or_default().to_string();
    let headers = head
        .headers
        .into_iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value))
        .collect::<Vec<(String, String)>>();
    let declared = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<u64>().ok())
        .unwrap_or(0);
    let mut body = Vec::new();
    reader
        .take(declared.min(MAX_RECEIVED))
        .read_to_end(&mut body)?;
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}

fn serve(
    conn: TcpStream,
    handler: &Handler,
    requests: &Mutex<Vec<Request>>,
    sent: &AtomicU64,
) -> io::Result<()> {
    conn.set_read_timeout(Some(IDLE))?;
    conn.set_write_timeout(Some(IDLE))?;
    let mut input = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    let Some(request) = read_request(&mut input)? else {
        return Ok(());
    };
    requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(request.clone());
    let filler = vec![b' '; 64 * 1024];
    match handler(&request) {
        Answer::Full {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} Hostile\r\n");
            for (name, value) in &headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            ));
            out.write_all(head.as_bytes())?;
            out.write_all(&body)?;
            sent.fetch_add(body.len() as u64, Ordering::SeqCst);
            out.flush()?;
            // Let the client close first, so nothing it was sent is reset.
            out.shutdown(std::net::Shutdown::Write)?;
            let mut sink = [0u8; 4096];
            while matches!(input.read(&mut sink), Ok(n) if n > 0) {}
        }
        Answer::Declares(declared) => {
            out.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n\
                     Content-Length: {declared}\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )?;
            let mut written = 0;
            while written < declared.min(MAX_SENT) {
                let n = filler.len().min((declared - written) as usize);
                out.write_all(&filler[..n])?;
                sent.fetch_add(n as u64, Ordering::SeqCst);
                written += n as u64;
            }
        }
        Answer::Trickle(body) => {
            out.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            )?;
            for byte in body.chunks(1) {
                out.write_all(byte)?;
                out.flush()?;
                sent.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        Answer::Endless => {
            out.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                  Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            )?;
            let mut written = 0;
            while written < MAX_SENT {
                out.write_all(format!("{:x}\r\n", filler.len()).as_bytes())?;
                out.write_all(&filler)?;
                out.write_all(b"\r\n")?;
                sent.fetch_add(filler.len() as u64, Ordering::SeqCst);
                written += filler.len() as u64;
            }
        }
    }
    Ok(())
}
