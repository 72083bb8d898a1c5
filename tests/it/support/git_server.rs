//! A smart-HTTP git server on a free loopback port: `git http-backend` as
//! CGI behind `git_http_server.py` (Python 3's `http.server`), over TLS with
//! a certificate from a test CA made by the `openssl` CLI, optionally behind
//! Basic auth. Killed and reaped on drop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A certificate authority made for one test, and a server certificate it
/// signed for `127.0.0.1`.
pub struct TestCa {
    /// The CA's certificate (PEM): what `SSL_CERT_FILE` should name.
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl TestCa {
    /// Makes the CA and the server certificate in `dir`.
    pub fn create(dir: &Path) -> TestCa {
        std::fs::create_dir_all(dir).unwrap();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .output()
                .expect("run openssl (apt-get install openssl)");
            assert!(out.status.success(), "openssl {args:?}: {out:?}");
        };
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        let mut ca = vec!["req", "-x509", "-nodes", "-days", "2"];
        ca.extend(key);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=rebuild-compare test CA",
        ]);
        openssl(&ca);
        let mut request = vec!["req", "-nodes"];
        request.extend(key);
        request.extend([
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        openssl(&request);
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ]);
        TestCa {
            ca_cert: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
        }
    }
}

/// A running `git_http_server.py` serving the repositories under `root`.
pub struct GitServer {
    child: Child,
    port: u16,
    scheme: &'static str,
}

impl GitServer {
    /// Serves `root` over HTTPS with `ca`'s server certificate; with `user`
    /// (`NAME:PASSWORD`), only to requests with that Basic auth.
    pub fn https(root: &Path, ca: &TestCa, user: Option<&str>) -> GitServer {
        let mut args = vec![
            "--cert".to_string(),
            ca.server_cert.display().to_string(),
            "--key".to_string(),
            ca.server_key.display().to_string(),
        ];
        if let Some(user) = user {
            args.extend(["--user".to_string(), user.to_string()]);
        }
        Self::launch(root, &args, "https")
    }

    fn launch(root: &Path, args: &[String], scheme: &'static str) -> GitServer {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/git_http_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(root)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run python3 (apt-get install python3)");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("git_http_server.py printed {line:?}, not its port"));
        GitServer {
            child,
            port,
            scheme,
        }
    }

    /// The URL of repository `name` (a path under the root).
    pub fn url(&self, name: &str) -> String {
        format!("{}://127.0.0.1:{}/{name}", self.scheme, self.port)
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
