//! Small HTTP servers played by the test: a bearer-token gate in front of
//! the real registry (the token flow Docker Hub, GHCR and Quay use), and a
//! registry that misbehaves while sending a layer.

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;

use super::harness::{forward, read_blob, read_head, respond, sha256_hex};

const TOKEN: &str = "tok-7f3a9c";

/// Answers `/token?service=…&scope=…` with a token (checking basic
/// credentials when it has some), challenges every registry request
/// without `Bearer <token>`, and relays the others to the real registry.
pub struct BearerGate {
    pub port: u16,
    tokens: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
}

impl BearerGate {
    pub fn start(upstream: u16, creds: Option<(&str, &str)>, repo: &str) -> BearerGate {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let tokens = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let basic = creds.map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        let scope = format!("repository:{repo}:pull");
        let (t, r) = (tokens.clone(), refused.clone());
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut conn) = conn else { continue };
                let (t, r, basic, scope) = (t.clone(), r.clone(), basic.clone(), scope.clone());
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let Some((line, headers)) = read_head(&mut reader) else {
                        return;
                    };
                    let path = line.split(' ').nth(1).unwrap_or("").to_string();
                    let authz = headers
                        .iter()
                        .find(|(k, _)| k == "authorization")
                        .map(|(_, v)| v.clone());
                    if path.starts_with("/token?") {
                        let want_scope =
                            format!("scope={}", scope.replace(':', "%3A").replace('/', "%2F"));
                        if !path.contains(&want_scope) || !path.contains("service=gate") {
                            respond(&mut conn, "400 Bad Request", &[], b"bad scope");
                        } else if basic.is_some() && authz != basic {
                            respond(&mut conn, "401 Unauthorized", &[], b"{}");
                        } else {
                            t.fetch_add(1, Ordering::SeqCst);
                            let body = format!("{{\"token\":\"{TOKEN}\",\"expires_in\":300}}");
                            respond(
                                &mut conn,
                                "200 OK",
                                &[("Content-Type", "application/json".into())],
                                body.as_bytes(),
                            );
                        }
                    } else if authz.as_deref() == Some(&format!("Bearer {TOKEN}")) {
                        forward(&mut conn, &line, &headers, upstream);
                    } else {
                        r.fetch_add(1, Ordering::SeqCst);
                        let challenge = format!(
                            "Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"gate\",scope=\"{scope}\""
                        );
                        respond(
                            &mut conn,
                            "401 Unauthorized",
                            &[("WWW-Authenticate", challenge)],
                            br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
                        );
                    }
                });
            }
        });
        BearerGate {
            port,
            tokens,
            refused,
        }
    }

    pub fn tokens_issued(&self) -> usize {
        self.tokens.load(Ordering::SeqCst)
    }

    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

/// How the fake registry spoils layer 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Half of the blob, then the connection is closed.
    Drop,
    /// The blob under a digest it does not have.
    Mismatch,
    /// A few bytes, then nothing.
    Stall,
    /// More bytes than the manifest says.
    Oversize,
}

/// A registry serving one image (`app:t`) from an OCI layout, spoiling
/// the blob of layer 1 as `mode` says.
pub struct Registry {
    pub port: u16,
}

impl Registry {
    pub fn start(layout: &Path, mode: Mode) -> Registry {
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
        let mdigest = index["manifests"][0]["digest"].as_str().unwrap();
        let mut manifest: serde_json::Value =
            serde_json::from_slice(&read_blob(layout, mdigest)).unwrap();
        let mut blobs: Vec<(String, Vec<u8>)> = Vec::new();
        let cdigest = manifest["config"]["digest"].as_str().unwrap().to_string();
        blobs.push((cdigest.clone(), read_blob(layout, &cdigest)));
        let layers: Vec<String> = manifest["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap().to_string())
            .collect();
        for d in &layers {
            blobs.push((d.clone(), read_blob(layout, d)));
        }
        let spoiled = if mode == Mode::Mismatch {
            // Real, readable bytes under another digest.
            let fake = format!("sha256:{}", sha256_hex(b"not this layer"));
            manifest["layers"][1]["digest"] = fake.clone().into();
            let bytes = read_blob(layout, &layers[1]);
            blobs.push((fake.clone(), bytes));
            fake
        } else {
            layers[1].clone()
        };
        let mbytes = serde_json::to_vec(&manifest).unwrap();
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let blobs = Arc::new(blobs);
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(conn) = conn else { continue };
                let (blobs, mbytes, spoiled) = (blobs.clone(), mbytes.clone(), spoiled.clone());
                std::thread::spawn(move || serve(conn, &blobs, &mbytes, &spoiled, mode));
            }
        });
        Registry { port }
    }
}

fn serve(
    mut conn: TcpStream,
    blobs: &[(String, Vec<u8>)],
    manifest: &[u8],
    spoiled: &str,
    mode: Mode,
) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let Some((line, _)) = read_head(&mut reader) else {
        return;
    };
    let path = line.split(' ').nth(1).unwrap_or("").to_string();
    if path == "/v2/app/manifests/t" {
        let ct = (
            "Content-Type",
            "application/vnd.oci.image.manifest.v1+json".to_string(),
        );
        return respond(&mut conn, "200 OK", &[ct], manifest);
    }
    let Some(digest) = path.strip_prefix("/v2/app/blobs/") else {
        return respond(&mut conn, "404 Not Found", &[], b"{}");
    };
    let Some((_, bytes)) = blobs.iter().find(|(d, _)| d == digest) else {
        return respond(&mut conn, "404 Not Found", &[], b"{}");
    };
    if digest != spoiled || mode == Mode::Mismatch {
        return respond(&mut conn, "200 OK", &[], bytes);
    }
    let head = |len: usize| {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
    };
    match mode {
        Mode::Drop => {
            let _ = conn.write_all(head(bytes.len()).as_bytes());
            let _ = conn.write_all(&bytes[..bytes.len() / 2]);
            let _ = conn.flush();
            let _ = conn.shutdown(std::net::Shutdown::Both);
        }
        Mode::Stall => {
            let _ = conn.write_all(head(bytes.len()).as_bytes());
            let _ = conn.write_all(&bytes[..1000.min(bytes.len())]);
            let _ = conn.flush();
            std::thread::sleep(Duration::from_secs(60));
        }
        Mode::Oversize => {
            let mut more = bytes.clone();
            more.extend_from_slice(&[0u8; 4096]);
            respond(&mut conn, "200 OK", &[], &more);
        }
        Mode::Mismatch => unreachable!(),
    }
}
