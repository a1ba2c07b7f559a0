//! `--format html` in a real browser: reports of the real test images are
//! loaded in headless Chromium, driven through the DevTools protocol (over
//! `--remote-debugging-pipe`, two FIFOs; no WebSocket library needed). Each
//! page must load without a console error or any network request, draw one
//! treemap rectangle per top-level directory with its area proportional to
//! the bytes an independent reading of the image's layer tars finds, show
//! the JSON report's totals and fixes, and filter the findings when a layer
//! is clicked. A synthetic 100,000-file image checks the page stays ≤ 2 MB.
//! Without a browser the browser tests say they skipped, by name.

use crate::common;
use common::*;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn imgscope(args: &[&str]) -> common::Run {
    common::Exec::new(args).run()
}

/// `--format json` and `--format html` reports of one image.
fn reports(image: &Path, dir: &Path, extra: &[&str]) -> (Value, PathBuf) {
    let img = image.to_str().unwrap();
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    args.push(img);
    let report = imgscope(&args).report();
    let name = image.file_name().unwrap().to_string_lossy().to_string();
    let html = dir.join(format!("{name}.html"));
    let mut args = vec!["--format", "html", "--output", html.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(img);
    let out = imgscope(&args);
    assert!(out.code <= 1, "{}", out.stderr);
    (report, html)
}

// ---------------------------------------------------------------------------
// An independent reading of a docker-archive: the layer tars applied to a
// flat map of paths, as SPEC.md's "Merged filesystem" describes.

#[derive(Default, Debug)]
struct Model {
    total: u64,
    layer_bytes: Vec<u64>,
    /// Visible bytes under each top-level directory (each hard-link group
    /// once, at its first path in sorted order).
    top_dirs: BTreeMap<String, u64>,
}

fn decompress(bytes: Vec<u8>) -> Vec<u8> {
    if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        zstd::decode_all(&bytes[..]).unwrap()
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        bytes
    }
}

fn norm(p: &[u8]) -> String {
    let s = String::from_utf8_lossy(p).to_string();
    let s = s.trim_start_matches("./").trim_start_matches('/');
    s.trim_end_matches('/').to_string()
}

fn model(image: &Path) -> Model {
    let outer = decompress(std::fs::read(image).unwrap());
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    let mut ar = tar::Archive::new(&outer[..]);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = norm(&e.path_bytes());
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        files.insert(name, data);
    }
    let layers: Vec<String> = match files.get("manifest.json") {
        Some(m) => {
            let m: Value = serde_json::from_slice(m).unwrap();
            m[0]["Layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap().to_string())
                .collect()
        }
        None => {
            // OCI layout: index.json → (an index →) a manifest → layer blobs.
            let blob = |d: &Value| {
                let d = d.as_str().unwrap().replace(':', "/");
                serde_json::from_slice::<Value>(&files[&format!("blobs/{d}")]).unwrap()
            };
            let index: Value = serde_json::from_slice(&files["index.json"]).unwrap();
            let mut m = blob(&index["manifests"][0]["digest"]);
            while m.get("manifests").is_some() {
                m = blob(&m["manifests"][0]["digest"]);
            }
            m["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| format!("blobs/{}", l["digest"].as_str().unwrap().replace(':', "/")))
                .collect()
        }
    };
    // path → (size, hard-link group)
    let mut fs: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    let mut groups = 0usize;
    let mut m = Model::default();
    // Removes the paths below `p` (and `p` itself with `self_too`): a range
    // of the sorted map, as '0' follows '/'.
    let remove_tree = |fs: &mut BTreeMap<String, (u64, usize)>, p: &str, self_too: bool| {
        if p.is_empty() {
            fs.clear();
            return;
        }
        if self_too {
            fs.remove(p);
        }
        let below: Vec<String> = fs
            .range(format!("{p}/")..format!("{p}0"))
            .map(|(k, _)| k.clone())
            .collect();
        for k in below {
            fs.remove(&k);
        }
    };
    for layer in &layers {
        let data = decompress(files[layer].clone());
        let mut entries = Vec::new();
        for e in tar::Archive::new(&data[..]).entries().unwrap() {
            let e = e.unwrap();
            let link = e.link_name_bytes().map(|l| norm(&l));
            entries.push((
                norm(&e.path_bytes()),
                e.header().entry_type(),
                e.header().size().unwrap(),
                link,
            ));
        }
        // Whiteouts and opaque markers act on the layers below.
        for (p, _, _, _) in &entries {
            let (dir, base) = p.rsplit_once('/').unwrap_or(("", p));
            if base == ".wh..wh..opq" {
                remove_tree(&mut fs, dir, false);
            } else if let Some(name) = base.strip_prefix(".wh.") {
                let target = if dir.is_empty() {
                    name.to_string()
                } else {
                    format!("{dir}/{name}")
                };
                remove_tree(&mut fs, &target, true);
            }
        }
        let mut bytes = 0;
        for (p, kind, size, link) in entries {
            let base = p.rsplit('/').next().unwrap();
            if base.starts_with(".wh.") || p.is_empty() {
                continue;
            }
            match kind {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    bytes += size;
                    remove_tree(&mut fs, &p, false);
                    groups += 1;
                    fs.insert(p, (size, groups));
                }
                tar::EntryType::Link => {
                    let target = fs.get(link.as_deref().unwrap()).copied();
                    remove_tree(&mut fs, &p, false);
                    if let Some(t) = target {
                        fs.insert(p, t);
                    }
                }
                tar::EntryType::Directory => {
                    fs.remove(&p);
                }
                _ => {
                    remove_tree(&mut fs, &p, true);
                }
            }
        }
        m.total += bytes;
        m.layer_bytes.push(bytes);
    }
    let mut seen = std::collections::HashSet::new();
    for (p, (size, group)) in &fs {
        if !seen.insert(*group) {
            continue;
        }
        if let Some((top, _)) = p.split_once('/') {
            *m.top_dirs.entry(format!("/{top}")).or_default() += size;
        }
    }
    m.top_dirs.retain(|_, b| *b > 0);
    m
}

// ---------------------------------------------------------------------------
// Headless Chromium over the DevTools protocol.

fn browser_path() -> Option<String> {
    if let Ok(p) = std::env::var("IMGSCOPE_CHROMIUM") {
        return Some(p);
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new("sh")
                .args(["-c", &format!("command -v {b} >/dev/null")])
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(str::to_string)
}

struct Browser {
    child: Child,
    tx: std::fs::File,
    rx: mpsc::Receiver<Value>,
    next: u64,
    session: String,
    /// Events seen so far (console, exceptions, requests).
    events: Vec<Value>,
    _dir: tempfile::TempDir,
}

impl Browser {
    /// Starts the browser with a blank page and attaches to it.
    fn start(bin: &str) -> Browser {
        let dir = tempfile::tempdir().unwrap();
        let inp = dir.path().join("in");
        let out = dir.path().join("out");
        for p in [&inp, &out] {
            let ok = Command::new("mkfifo").arg(p).status().unwrap().success();
            assert!(ok, "mkfifo");
        }
        let profile = dir.path().join("profile");
        let script = format!(
            "exec \"$0\" --headless --no-sandbox --disable-gpu --no-first-run \
             --disable-background-networking --disable-component-update --disable-sync \
             --disable-default-apps --disable-extensions --mute-audio --hide-scrollbars \
             --user-data-dir='{}' --remote-debugging-pipe about:blank 3<'{}' 4>'{}'",
            profile.display(),
            inp.display(),
            out.display()
        );
        let child = Command::new("sh")
            .args(["-c", &script, bin])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Same order as the shell opens them, so neither side waits forever.
        let tx = std::fs::OpenOptions::new().write(true).open(&inp).unwrap();
        let rxf = std::fs::File::open(&out).unwrap();
        let (send, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(rxf);
            loop {
                let mut buf = Vec::new();
                match r.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        buf.pop();
                        if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                            if send.send(v).is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        });
        let mut b = Browser {
            child,
            tx,
            rx,
            next: 0,
            session: String::new(),
            events: Vec::new(),
            _dir: dir,
        };
        let t = b.call("Target.createTarget", json!({"url": "about:blank"}));
        let target = t["targetId"].as_str().unwrap().to_string();
        let a = b.call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        b.session = a["sessionId"].as_str().unwrap().to_string();
        for m in [
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
            "Page.enable",
        ] {
            b.call(m, json!({}));
        }
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
        );
        b
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() && !method.starts_with("Target.") {
            msg["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.tx.write_all(&bytes).unwrap();
        self.tx.flush().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no answer to {method}"));
            if v["id"].as_u64() == Some(id) {
                assert!(v.get("error").is_none(), "{method}: {}", v["error"]);
                return v["result"].clone();
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    /// A JavaScript expression's value (JSON-serialisable).
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(
            r.get("exceptionDetails").is_none(),
            "{expr}: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    fn open(&mut self, url: &str) {
        self.events.clear();
        self.call("Page.navigate", json!({"url": url}));
        let probe = format!(
            "location.href === {} && document.documentElement !== null && \
             document.documentElement.getAttribute('data-ready') === '1'",
            serde_json::to_string(url).unwrap()
        );
        self.wait_until(&probe, &format!("{url} to get ready"));
    }

    /// Poll the JavaScript expression `probe` until it is `true` (a minute
    /// at most, then fail naming `what`): wait for the condition a check
    /// needs, never for a time.
    fn wait_until(&mut self, probe: &str, what: &str) {
        let t = Instant::now();
        while self.eval(probe) != json!(true) {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "waited a minute for {what}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A real mouse click in the middle of the element `selector` matches.
    fn click(&mut self, selector: &str) {
        let sel = serde_json::to_string(selector).unwrap();
        let r = self.eval(&format!(
            "(function(){{var e=document.querySelector({sel});e.scrollIntoView({{block:'center'}});\
             var r=e.getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2];}})()"
        ));
        let (x, y) = (r[0].as_f64().unwrap(), r[1].as_f64().unwrap());
        for t in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": t, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Errors the page reported: exceptions, console errors, log errors.
    fn errors(&mut self) -> Vec<String> {
        self.eval("0"); // drain events that arrived before now
        self.events
            .iter()
            .filter_map(|e| match e["method"].as_str()? {
                "Runtime.exceptionThrown" => Some(e["params"]["exceptionDetails"].to_string()),
                "Runtime.consoleAPICalled"
                    if matches!(e["params"]["type"].as_str(), Some("error" | "assert")) =>
                {
                    Some(e["params"]["args"].to_string())
                }
                "Log.entryAdded" if e["params"]["entry"]["level"] == "error" => {
                    Some(e["params"]["entry"].to_string())
                }
                _ => None,
            })
            .collect()
    }

    /// URLs of every request the page started.
    fn requests(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .map(|e| {
                e["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }

    fn screenshot(&mut self, path: &Path, dark: bool) {
        let scheme = if dark { "dark" } else { "light" };
        self.call(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]}),
        );
        // The page redraws on the media query's change event, which runs
        // before the next frame's animation callbacks: two frames on, with
        // the query matching, it has.
        self.wait_until(
            &format!(
                "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => \
                 r(matchMedia('(prefers-color-scheme: dark)').matches === {dark}))))"
            ),
            &format!("the {scheme} colour scheme"),
        );
        let r = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": false}),
        );
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn browser(test: &str) -> Option<Browser> {
    match browser_path() {
        Some(b) => Some(Browser::start(&b)),
        None => {
            eprintln!("{test}: skipped: no chromium (install Debian's chromium package or set IMGSCOPE_CHROMIUM)");
            None
        }
    }
}

// ---------------------------------------------------------------------------

/// Every assertion the issue names, for one image.
fn check_page(b: &mut Browser, image: &Path, dir: &Path) {
    let name = image.display().to_string();
    let (report, html) = reports(image, dir, &[]);
    let url = format!("file://{}", html.display());
    b.open(&url);
    let errors = b.errors();
    assert!(errors.is_empty(), "{name}: console errors: {errors:?}");
    let requests = b.requests();
    // The page's own load is seen (so the listener works), nothing else.
    assert!(requests.contains(&url), "{name}: {requests:?}");
    assert!(
        requests.iter().all(|u| *u == url),
        "{name}: network requests: {requests:?}"
    );

    // Totals: the cards say what the JSON report says, and the JSON total is
    // what the layer tars hold.
    let m = model(image);
    let s = &report["summary"];
    assert_eq!(s["total_bytes"].as_u64().unwrap(), m.total, "{name}");
    let cards = b.eval(
        "Object.fromEntries([...document.querySelectorAll('.card[data-bytes]')]\
         .map(c=>[c.dataset.field, Number(c.dataset.bytes)]))",
    );
    for f in [
        "total_bytes",
        "visible_bytes",
        "hidden_bytes",
        "cache_bytes",
        "wasted_bytes",
    ] {
        assert_eq!(cards[f], s[f], "{name}: {f}");
    }

    // Treemap: one rectangle per top-level directory, area ∝ bytes.
    let tm = b.eval(
        "(function(){var s=document.querySelector('#treemap svg');var vb=s.viewBox.baseVal;\
         return {w:vb.width,h:vb.height,items:[...s.querySelectorAll('.tm-item[data-depth=\"1\"]')]\
         .map(g=>({path:g.dataset.path,kind:g.classList[1],bytes:Number(g.dataset.bytes),\
         w:Number(g.querySelector('rect').getAttribute('width')),\
         h:Number(g.querySelector('rect').getAttribute('height'))}))};})()",
    );
    let area = tm["w"].as_f64().unwrap() * tm["h"].as_f64().unwrap();
    let items = tm["items"].as_array().unwrap();
    let dirs: Vec<&Value> = items.iter().filter(|i| i["kind"] == "dir").collect();
    let paths: Vec<&str> = dirs.iter().map(|i| i["path"].as_str().unwrap()).collect();
    let expected: Vec<&str> = m.top_dirs.keys().map(String::as_str).collect();
    assert_eq!(paths.len(), dirs.len());
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "{name}: top-level directories");
    for (dir_path, bytes) in &m.top_dirs {
        let it = dirs.iter().find(|i| i["path"] == json!(dir_path)).unwrap();
        let got = it["w"].as_f64().unwrap() * it["h"].as_f64().unwrap() / area;
        let want = *bytes as f64 / m.total as f64;
        assert!(
            (got - want).abs() <= want * 0.01,
            "{name}: {dir_path}: area share {got} for byte share {want}"
        );
    }
    let sum: f64 = items
        .iter()
        .map(|i| i["w"].as_f64().unwrap() * i["h"].as_f64().unwrap())
        .sum();
    assert!((sum - area).abs() <= area * 0.001, "{name}: areas sum");

    // Fixes: the JSON report's, in order, with their savings.
    let fixes = b.eval(
        "[...document.querySelectorAll('#fix-list > li.fix')].map(li=>[li.dataset.id,\
         Number(li.dataset.saves),li.querySelector('h3').textContent,\
         li.querySelectorAll('pre').length,li.querySelectorAll('button.copy').length])",
    );
    let want: Vec<Value> = report["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            // A Before and an After (each with its copy button), or a
            // Before and the reason there is no After.
            let n = if s["after"].as_str().unwrap_or("").is_empty() {
                1
            } else {
                2
            };
            json!([s["id"], s["saves_bytes"], s["title"], n, n])
        })
        .collect();
    assert_eq!(fixes, json!(want), "{name}: fixes");

    // Packages and insights, when the report has them.
    for (key, sel) in [
        ("packages", "#packages-table tbody tr"),
        ("insights", "#insight-list li"),
    ] {
        let want = report[key].as_array().map_or(0, |v| v.len().min(2000));
        let got = b.eval(&format!("document.querySelectorAll('{sel}').length"));
        assert_eq!(got.as_u64().unwrap() as usize, want, "{name}: {key}");
    }

    // Clicking a layer filters the findings (and the treemap) to it.
    // The page lists the largest 2,000 findings (the JSON report all).
    let all = report["waste"].as_array().unwrap();
    let waste = &all[..all.len().min(2000)];
    let layers = report["layers"].as_array().unwrap();
    let involved = |l: usize| {
        waste
            .iter()
            .filter(|f| f["stored_in_layer"] == json!(l) || f["hidden_by_layer"] == json!(l))
            .count()
    };
    let pick = (0..layers.len())
        .filter(|&l| involved(l) > 0 && involved(l) < waste.len())
        .max_by_key(|&l| involved(l))
        .or_else(|| (0..layers.len()).max_by_key(|&l| involved(l)))
        .unwrap();
    b.click(&format!(".layer-row[data-layer=\"{pick}\"]"));
    let after = b.eval(
        "({count:Number(document.getElementById('finding-count').dataset.count),\
         rows:[...document.querySelectorAll('#findings-body tr[data-index]')]\
         .map(r=>[r.dataset.stored,r.dataset.hiddenBy]),\
         pressed:document.querySelector('.layer-row[aria-pressed=\"true\"]').dataset.layer,\
         bytes:[...document.querySelectorAll('#treemap .tm-item[data-depth=\"1\"]')]\
         .reduce((a,g)=>a+Number(g.dataset.bytes),0)})",
    );
    assert_eq!(after["pressed"], json!(pick.to_string()), "{name}");
    assert_eq!(
        after["count"].as_u64().unwrap() as usize,
        involved(pick),
        "{name}: findings of layer {pick}"
    );
    for r in after["rows"].as_array().unwrap() {
        assert!(
            r[0] == json!(pick.to_string()) || r[1] == json!(pick.to_string()),
            "{name}: row {r} shown for layer {pick}"
        );
    }
    assert_eq!(
        after["bytes"].as_u64().unwrap(),
        m.layer_bytes[pick],
        "{name}: treemap of layer {pick}"
    );
    // A second click shows everything again.
    b.click(&format!(".layer-row[data-layer=\"{pick}\"]"));
    let n = b.eval("Number(document.getElementById('finding-count').dataset.count)");
    assert_eq!(n.as_u64().unwrap() as usize, waste.len(), "{name}");
    let errors = b.errors();
    assert!(errors.is_empty(), "{name}: console errors: {errors:?}");
    assert!(b.requests().iter().all(|u| *u == url), "{name}");
}

fn real_images() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("tests/images"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.ends_with(".tar") || n.ends_with(".tar.zst") || n.ends_with(".tar.gz")
        })
        .collect();
    v.sort();
    v.push(root().join("assets/demo/demo.tar.zst"));
    v
}

#[test]
fn pages_of_real_images_in_chromium() {
    let Some(mut b) = browser("pages_of_real_images_in_chromium") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for image in real_images() {
        check_page(&mut b, &image, dir.path());
    }
}

#[test]
fn zoom_breadcrumb_and_keyboard() {
    let Some(mut b) = browser("zoom_breadcrumb_and_keyboard") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = reports(&root().join("assets/demo/demo.tar.zst"), dir.path(), &[]);
    b.open(&format!("file://{}", html.display()));
    // Enter on the focused /usr rectangle zooms into it; the breadcrumb
    // names it and focus moves to its first child.
    b.eval(
        "document.querySelector('#treemap .tm-item[data-depth=\"1\"][data-path=\"/usr\"]').focus()",
    );
    key(&mut b, "Enter", 13);
    let view = |b: &mut Browser| {
        b.eval(
            "({zoom:document.querySelector('#treemap svg').dataset.zoom,\
             crumbs:[...document.querySelectorAll('#crumbs button')].map(b=>b.textContent),\
             paths:[...document.querySelectorAll('#treemap .tm-item[data-depth=\"1\"]')].map(g=>g.dataset.path),\
             focused:document.activeElement.dataset.path})",
        )
    };
    let z = view(&mut b);
    assert_eq!(z["zoom"], "/usr");
    assert_eq!(z["crumbs"], json!(["/ (image)", "usr"]));
    let paths = z["paths"].as_array().unwrap();
    assert!(!paths.is_empty());
    assert!(paths
        .iter()
        .all(|p| p.as_str().unwrap().starts_with("/usr/")));
    assert!(z["focused"].as_str().unwrap().starts_with("/usr/"));
    // Escape goes back up.
    key(&mut b, "Escape", 27);
    assert_eq!(view(&mut b)["zoom"], "/");
    // A click on a directory drawn inside /usr zooms straight to it; the
    // breadcrumb's first button goes back to the top.
    b.click("#treemap .tm-item[data-depth=\"2\"][data-path=\"/usr/lib\"] > rect");
    let z = view(&mut b);
    assert_eq!(z["zoom"], "/usr/lib");
    assert_eq!(z["crumbs"], json!(["/ (image)", "usr", "lib"]));
    b.click("#crumbs li:first-child button");
    assert_eq!(view(&mut b)["zoom"], "/");
    // Every interactive element has a name; treemap items are in tab order.
    let unnamed = b.eval(
        "[...document.querySelectorAll('button, input, select, [tabindex=\"0\"]')]\
         .filter(e=>!(e.getAttribute('aria-label')||e.textContent.trim())).length",
    );
    assert_eq!(unnamed, json!(0));
    // Searching narrows the findings to matching paths.
    let r = b.eval(
        "(function(){var i=document.getElementById('finding-search');i.value='apt';\
         i.dispatchEvent(new Event('input'));return [...document.querySelectorAll('#findings-body td.path')]\
         .map(t=>t.textContent);})()",
    );
    let rows = r.as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|p| p.as_str().unwrap().contains("apt")));
    let errors = b.errors();
    assert!(errors.is_empty(), "{errors:?}");
}

fn key(b: &mut Browser, key: &str, code: i64) {
    for t in ["keyDown", "keyUp"] {
        b.call(
            "Input.dispatchKeyEvent",
            json!({"type": t, "key": key, "code": key, "windowsVirtualKeyCode": code}),
        );
    }
}

/// 100,000 files in 500 directories, a fifth of them deleted by a later
/// layer, a cache directory, and a file name that tries to end the script.
fn big_image(path: &Path) -> usize {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut l0 = tar::Builder::new(Vec::new());
    let mut l1 = tar::Builder::new(Vec::new());
    let mut files = 0;
    let data = vec![b'x'; 512];
    for d in 0..500 {
        for f in 0..200 {
            let top = ["usr", "opt", "srv", "var", "home"][d % 5];
            let p = format!("{top}/lib/package-{d:04}/module_{f:04}_component.py");
            let size = (next() % 500) as usize + 1;
            let h = header(p.as_bytes(), size as u64, tar::EntryType::Regular, 0o644);
            l0.append(&h, &data[..size]).unwrap();
            files += 1;
            if f % 5 == 0 {
                let wh = format!("{top}/lib/package-{d:04}/.wh.module_{f:04}_component.py");
                let h = header(wh.as_bytes(), 0, tar::EntryType::Regular, 0o644);
                l1.append(&h, &[][..]).unwrap();
            }
        }
    }
    for i in 0..200 {
        let p = format!("var/cache/apt/archives/pkg{i}.deb");
        let h = header(p.as_bytes(), 4096, tar::EntryType::Regular, 0o644);
        l1.append(&h, &vec![b'd'; 4096][..]).unwrap();
    }
    let odd = b"srv/</script><script>alert(1)</script>";
    let h = header(odd, 300, tar::EntryType::Regular, 0o644);
    l1.append(&h, &data[..300]).unwrap();
    let layers = vec![l0.into_inner().unwrap(), l1.into_inner().unwrap()];
    let archive = docker_archive(
        &layers,
        &[
            "/bin/sh -c #(nop) ADD file:big in / ",
            "/bin/sh -c rm -f /usr/lib/*/module_*0_* && apt-get install -y x",
        ],
    );
    std::fs::write(path, archive).unwrap();
    files
}

#[test]
fn a_100k_file_image_gives_a_page_under_2_mb() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("big.tar");
    assert_eq!(big_image(&image), 100_000);
    let (report, html) = reports(&image, dir.path(), &[]);
    assert_eq!(report["summary"]["file_count"], 80_201);
    assert!(report["waste"].as_array().unwrap().len() > 20_000);
    let size = std::fs::metadata(&html).unwrap().len();
    eprintln!("a_100k_file_image_gives_a_page_under_2_mb: page {size} bytes");
    assert!(size <= 2_000_000, "page is {size} bytes");
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(!text.contains("</script><script>alert"));
    assert_eq!(text.matches("</script>").count(), 2);
    let Some(mut b) = browser("a_100k_file_image_gives_a_page_under_2_mb (browser part)") else {
        return;
    };
    check_page(&mut b, &image, dir.path());
    let note = b.eval("document.getElementById('findings-cut').textContent");
    assert!(
        note.as_str().unwrap().contains("of 20200 findings"),
        "{note}"
    );
}

/// One label per kind, in words, on one line: the Kind column and the
/// kind filter say "metadata only" (never `metadata_only`, never wrapped
/// as "metadata_onl/y"), at a phone's width too; the text report too.
#[test]
fn kind_labels_are_words_on_one_line() {
    let image = common::built("chmod-chown.tar.zst");
    let text = imgscope(&[image.to_str().unwrap()]).stdout;
    assert!(text.contains("metadata only"), "{text}");
    assert!(!text.contains("metadata_only"), "{text}");
    let Some(mut b) = browser("kind_labels_are_words_on_one_line") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = reports(&image, dir.path(), &[]);
    for width in [1280, 360] {
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 400}),
        );
        b.open(&format!("file://{}", html.display()));
        let cells = b.eval(
            "[...document.querySelectorAll('#findings-body tr')].map(tr => {\
               const td = tr.children[1], r = document.createRange();\
               r.selectNodeContents(td);\
               const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));\
               return [td.textContent, tops.size];})",
        );
        let cells = cells.as_array().unwrap();
        assert!(!cells.is_empty());
        for c in cells {
            assert_eq!(c, &json!(["metadata only", 1]), "{width}: {cells:?}");
        }
        let options =
            b.eval("[...document.querySelectorAll('#kind-filter option')].map(o => o.textContent)");
        assert!(
            options
                .as_array()
                .unwrap()
                .iter()
                .all(|o| !o.as_str().unwrap().contains('_')),
            "{options}"
        );
    }
    let errors = b.errors();
    assert!(errors.is_empty(), "{errors:?}");
}

/// The base image's layers and findings carry a mark (as in the text
/// report and the TUI), and a card splits the waste between your layers
/// and the base image's.
#[test]
fn base_layers_and_findings_are_marked() {
    let image = common::built("app-wasteful.tar.zst");
    let dir = tempfile::tempdir().unwrap();
    let (report, html) = reports(&image, dir.path(), &[]);
    let base: Vec<bool> = report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["in_base"].as_bool().unwrap())
        .collect();
    assert!(base.contains(&true) && base.contains(&false));
    let Some(mut b) = browser("base_layers_and_findings_are_marked") else {
        return;
    };
    b.open(&format!("file://{}", html.display()));
    let rows = b.eval(
        "[...document.querySelectorAll('.layer-row')].map(r => [r.dataset.base === '1', \
          !!r.querySelector('.base-tag') && r.querySelector('.base-tag').textContent === 'base'])",
    );
    let want: Vec<Value> = base.iter().map(|&x| json!([x, x])).collect();
    assert_eq!(rows, json!(want));
    let findings = b.eval(
        "[...document.querySelectorAll('#findings-body tr[data-index]')].map(r => \
          [Number(r.dataset.index), r.dataset.base === '1', !!r.querySelector('.base-tag')])",
    );
    let findings = findings.as_array().unwrap();
    assert_eq!(findings.len(), report["waste"].as_array().unwrap().len());
    for f in findings {
        let i = f[0].as_u64().unwrap() as usize;
        let in_base = report["waste"][i]["in_base"].as_bool().unwrap();
        assert_eq!(f, &json!([i, in_base, in_base]));
    }
    let card = b.eval(
        "(c => c && [Number(c.dataset.bytes), c.textContent])(document.querySelector('.card[data-field=\"user_wasted_bytes\"]'))",
    );
    assert_eq!(card[0], report["summary"]["user_wasted_bytes"], "{card}");
    assert!(card[1].as_str().unwrap().contains("base image"), "{card}");
    let errors = b.errors();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn phone_width_dark_mode_and_print() {
    let Some(mut b) = browser("phone_width_dark_mode_and_print") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = reports(
        &root().join("assets/demo/demo.tar.zst"),
        dir.path(),
        &["--ci"],
    );
    let url = format!("file://{}", html.display());
    // A 360-pixel phone: nothing wider than the screen, the treemap redrawn
    // to fit it.
    b.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": true}),
    );
    b.open(&url);
    // The emulated viewport may reach the page after it drew (a resize,
    // then a debounced redraw): wait for the treemap drawn at the width the
    // page has now.
    b.wait_until(
        "innerWidth === 360 && document.querySelector('#treemap svg') !== null && \
         document.querySelector('#treemap svg').getBoundingClientRect().right <= 360 && \
         document.documentElement.scrollWidth <= 360",
        "the page and its treemap to fit 360 pixels",
    );
    let w = b.eval(
        "({page:document.documentElement.scrollWidth,\
         svg:document.querySelector('#treemap svg').getBoundingClientRect().right,\
         wide:[...document.querySelectorAll('body *')].filter(e=>e.getBoundingClientRect().right>361\
         &&!e.closest('.scroll')).slice(0,3).map(e=>e.tagName+'.'+e.className+' '+e.getBoundingClientRect().right)})",
    );
    assert!(w["page"].as_f64().unwrap() <= 360.0, "{w}");
    assert!(w["svg"].as_f64().unwrap() <= 360.0, "{w}");
    // Dark mode changes the colours.
    let bg = "getComputedStyle(document.documentElement).backgroundColor";
    let light = b.eval(bg);
    b.call(
        "Emulation.setEmulatedMedia",
        json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
    );
    b.wait_until(
        &format!("{bg} !== {light}"),
        "dark mode to change the background",
    );
    // Print: controls hidden, white paper.
    b.call("Emulation.setEmulatedMedia", json!({"media": "print"}));
    let p = b.eval(
        "({search:getComputedStyle(document.getElementById('finding-search').closest('.controls')).display,\
         copy:getComputedStyle(document.querySelector('button.copy')).display,\
         bg:getComputedStyle(document.documentElement).backgroundColor})",
    );
    assert_eq!(
        p,
        json!({"search": "none", "copy": "none", "bg": "rgb(255, 255, 255)"})
    );
    let errors = b.errors();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn diff_page_in_chromium() {
    let Some(mut b) = browser("diff_page_in_chromium") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let img = |n: &str| root().join("tests/images").join(n);
    for (old, new) in [
        (img("cleanup-later.tar.zst"), img("cleanup-chained.tar.zst")),
        (img("chmod-copy.tar.zst"), img("chmod-run.tar.zst")),
    ] {
        let (o, n) = (old.to_str().unwrap(), new.to_str().unwrap());
        let d = imgscope(&["diff", "--ci", "--format", "json", o, n]).json();
        let html = dir.path().join("diff.html");
        let out = imgscope(&[
            "diff",
            "--ci",
            "--format",
            "html",
            "-o",
            html.to_str().unwrap(),
            o,
            n,
        ]);
        assert!(out.code <= 1, "{}", out.stderr);
        let url = format!("file://{}", html.display());
        b.open(&url);
        let errors = b.errors();
        assert!(errors.is_empty(), "{n}: {errors:?}");
        assert!(b.requests().iter().all(|u| *u == url), "{n}");
        // Deltas as the JSON diff has them, and as the layer tars say.
        let (mo, mn) = (model(&old), model(&new));
        assert_eq!(
            d["total_delta"].as_i64().unwrap(),
            mn.total as i64 - mo.total as i64
        );
        let cards = b.eval(
            "Object.fromEntries([...document.querySelectorAll('#diff-cards .card')]\
             .map(c=>[c.dataset.field, Number(c.dataset.delta)]))",
        );
        for k in [
            "total_delta",
            "visible_delta",
            "wasted_delta",
            "hidden_delta",
            "cache_delta",
            "pull_delta",
        ] {
            assert_eq!(cards[k], d[k], "{n}: {k}");
        }
        for k in ["fixed", "introduced", "changed", "files"] {
            let got = b.eval(&format!(
                "Number(document.getElementById('diff-{k}-h').dataset.count)"
            ));
            assert_eq!(
                got.as_u64().unwrap() as usize,
                d[k].as_array().unwrap().len(),
                "{n}: {k}"
            );
        }
        let rows = b.eval("document.querySelectorAll('#diff-layers tbody tr').length");
        assert_eq!(
            rows.as_u64().unwrap() as usize,
            d["layers"].as_array().unwrap().len()
        );
        // The checks are the diff's; the treemap is the new image's.
        let checks = b.eval("[...document.querySelectorAll('#checks-table tbody tr')].map(r=>[r.dataset.check, r.dataset.passed==='true'])");
        let want: Vec<Value> = d["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| json!([c["name"], c["passed"]]))
            .collect();
        assert_eq!(checks, json!(want), "{n}");
        let dirs = b.eval(
            "[...document.querySelectorAll('#treemap .tm-item.dir[data-depth=\"1\"]')].map(g=>g.dataset.path).sort()",
        );
        let want: Vec<&String> = mn.top_dirs.keys().collect();
        assert_eq!(dirs, json!(want), "{n}");
    }
}

/// The page's embedded data (no browser needed).
fn page_data(html: &Path) -> Value {
    let text = std::fs::read_to_string(html).unwrap();
    let start = text.find("id=\"imgscope-data\">").unwrap() + "id=\"imgscope-data\">".len();
    let end = start + text[start..].find("</script>").unwrap();
    serde_json::from_str(&text[start..end]).unwrap()
}

/// Every node's bytes are the sum of its children's, the root's are the
/// report's visible bytes, and per-layer bytes add up the same way.
fn check_tree(node: &Value, threshold: u64, depth: usize, name: &str) {
    let b = node["b"].as_u64().unwrap();
    let layers: u64 = match &node["l"] {
        Value::Array(v) => v.iter().map(|p| p[1].as_u64().unwrap()).sum(),
        _ => unreachable!(),
    };
    assert_eq!(layers, b, "{name}: layers of {node}");
    if let Some(children) = node["c"].as_array() {
        let sum: u64 = children.iter().map(|c| c["b"].as_u64().unwrap()).sum();
        assert_eq!(sum, b, "{name}: children of {}", node["n"]);
        for c in children {
            if c["k"] != "small" && depth > 0 {
                assert!(c["b"].as_u64().unwrap() >= threshold, "{name}: {c} kept");
            }
            check_tree(c, threshold, depth + 1, name);
        }
    }
}

#[test]
fn size_tree_adds_up_to_the_reports_figures() {
    let dir = tempfile::tempdir().unwrap();
    let mut images = real_images();
    let big = dir.path().join("big.tar");
    big_image(&big);
    images.push(big);
    for image in images {
        let name = image.display().to_string();
        let (report, html) = reports(&image, dir.path(), &[]);
        let d = page_data(&html);
        let files = &d["files"];
        let s = &report["summary"];
        assert_eq!(files["root"]["b"], s["visible_bytes"], "{name}");
        check_tree(
            &files["root"],
            files["threshold"].as_u64().unwrap(),
            0,
            &name,
        );
        let hidden: u64 = files["hidden"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["bytes"].as_u64().unwrap())
            .sum();
        assert_eq!(hidden, s["hidden_bytes"].as_u64().unwrap(), "{name}");
        // Each layer's split adds up to its bytes.
        for (l, split) in report["layers"]
            .as_array()
            .unwrap()
            .iter()
            .zip(files["layers"].as_array().unwrap())
        {
            let sum: u64 = ["visible", "cache", "hidden"]
                .iter()
                .map(|k| split[k].as_u64().unwrap())
                .sum();
            assert_eq!(
                sum,
                l["bytes"].as_u64().unwrap(),
                "{name}: layer {}",
                l["index"]
            );
        }
        // The page carries the JSON report's value.
        let mut r = d["report"].clone();
        let mut want = report.clone();
        r["waste"] = Value::Null;
        want["waste"] = Value::Null;
        assert_eq!(r, want, "{name}");
        let w = d["report"]["waste"].as_array().unwrap();
        assert_eq!(
            w[..],
            report["waste"].as_array().unwrap()[..w.len()],
            "{name}"
        );
    }
}

/// Screenshots for the README: `cargo test --test it html:: -- --ignored screenshots`.
#[test]
#[ignore]
fn screenshots() {
    let Some(mut b) = browser("screenshots") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = reports(
        &root().join("assets/demo/demo.tar.zst"),
        dir.path(),
        &["--ci"],
    );
    b.open(&format!("file://{}", html.display()));
    let out = root().join("screenshots");
    b.screenshot(&out.join("html-light.png"), false);
    b.screenshot(&out.join("html-dark.png"), true);
}
