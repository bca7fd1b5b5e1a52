//! Headless Chromium for the page tests: found through `FEDICENSUS_CHROMIUM`, else
//! `chromium`, `chromium-browser` or `google-chrome` on PATH. Without it a browser test
//! is skipped with a note, except under CI (`CI` set), where it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration as Wait, Instant};

const BROWSER_TIMEOUT: Wait = Wait::from_secs(90);

/// The browser, or `None` after a note that `test` is skipped; panics under CI.
pub fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    match chromium() {
        Ok(browser) => Some(browser),
        Err(why) if std::env::var_os("CI").is_some() => panic!(
            "{why}: CI must test the page in a real browser; install the `chromium` \
             package (apt-get install -y chromium) or set FEDICENSUS_CHROMIUM"
        ),
        Err(why) => {
            eprintln!(
                "\n!!! SKIPPED {test}: {why}.\n!!! Install the `chromium` package (or set \
                 FEDICENSUS_CHROMIUM) to test the page in a browser.\n"
            );
            None
        }
    }
}

/// The browser to test with, or why there is none. A `FEDICENSUS_CHROMIUM` that names
/// no file is a mistake to report, not a reason to skip.
pub fn chromium() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("FEDICENSUS_CHROMIUM") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "FEDICENSUS_CHROMIUM={} is not a file",
            path.display()
        );
        return Ok(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| "none of chromium, chromium-browser, google-chrome is on PATH".into())
}

/// Runs the browser headless on `url` with `args`, in a fresh profile, without
/// network chatter; returns its standard output. Killed after [`BROWSER_TIMEOUT`].
pub fn headless(browser: &Path, url: &str, args: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    // Read both pipes while waiting, so a chatty browser cannot block on a full pipe.
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let (stdout, stderr) = (read(Box::new(stdout)), read(Box::new(stderr)));
    let deadline = Instant::now() + BROWSER_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{} did not finish within {BROWSER_TIMEOUT:?}; stderr:\n{}",
                browser.display(),
                stderr.join().unwrap()
            );
        }
        std::thread::sleep(Wait::from_millis(100));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(
        status.success(),
        "{} {args:?} failed ({status}); stderr:\n{stderr}",
        browser.display()
    );
    stdout
}

/// What a browser measured on a page at a window width.
#[derive(Debug)]
pub struct Probe {
    /// The document's width: more than `client_width` means it scrolls sideways.
    pub scroll_width: u32,
    /// The width of the frame's viewport.
    pub client_width: u32,
    /// Every link's target, as the browser resolved it.
    pub links: Vec<String>,
}

impl Probe {
    /// Asserts the page was laid out `width` pixels wide and does not scroll sideways.
    pub fn assert_fits(&self, name: &str, width: u32) {
        assert_eq!(self.client_width, width, "{name}: the frame's width");
        assert!(
            self.scroll_width <= width,
            "{name}: the page is {} pixels wide in a {width}-pixel window",
            self.scroll_width
        );
    }
}

/// Writes `html` into `dir` (so its relative links resolve there) and a harness page
/// that shows it in a frame `width` pixels wide: a desktop browser window cannot be
/// made as narrow as a phone, a frame can, and the page's media queries see its width.
/// Once the frame has loaded, a script writes the page's width and its links (as the
/// browser resolved them) into the harness. Returns the harness's URL.
pub fn harness(dir: &Path, html: &str, width: u32) -> String {
    let page = dir.join(format!(".probe-page-{width}.html"));
    std::fs::write(&page, html).unwrap();
    let harness = dir.join(format!(".probe-{width}.html"));
    std::fs::write(
        &harness,
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0\"><iframe id=\"f\" src=\"{}\" \
             style=\"width:{width}px;height:2000px;border:0\"></iframe><pre id=\"probe\"></pre>\
             <script>document.getElementById('f').addEventListener('load', () => {{ \
             const d = document.getElementById('f').contentDocument; \
             document.getElementById('probe').textContent = \
             [d.documentElement.scrollWidth, d.documentElement.clientWidth] \
             .concat([...d.querySelectorAll('a[href]')].map(a => a.href)).join('\\n'); \
             }});</script></body></html>",
            page.file_name().unwrap().to_string_lossy()
        ),
    )
    .unwrap();
    format!("file://{}", harness.display())
}

/// What the harness at `url` measured (see [`harness`]).
pub fn probe(browser: &Path, url: &str) -> Probe {
    let dom = headless(
        browser,
        url,
        &[
            "--dump-dom".into(),
            "--allow-file-access-from-files".into(),
            "--virtual-time-budget=10000".into(),
            // Phones draw scrollbars over the page, not beside it.
            "--hide-scrollbars".into(),
            "--window-size=1300,2100".into(),
        ],
    );
    let start = dom.find("<pre id=\"probe\">").expect("the probe ran") + 16;
    let text = &dom[start..start + dom[start..].find("</pre>").unwrap()];
    let mut lines = text.lines().map(|l| l.replace("&amp;", "&"));
    let mut number = || {
        lines
            .next()
            .unwrap_or_else(|| panic!("no probe in {dom}"))
            .parse()
            .unwrap()
    };
    let (scroll_width, client_width) = (number(), number());
    Probe {
        scroll_width,
        client_width,
        links: lines.collect(),
    }
}

/// Screenshots `url` at `size` into `shot` and checks that something was drawn.
pub fn screenshot(browser: &Path, url: &str, size: (u32, u32), shot: &Path) {
    headless(
        browser,
        url,
        &[
            format!("--screenshot={}", shot.display()),
            format!("--window-size={},{}", size.0, size.1),
        ],
    );
    let png = std::fs::read(shot).expect("chromium wrote no screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((be(16), be(20)), size, "screenshot size");
    // A blank page of that size compresses to a few kilobytes; text and charts do not.
    assert!(png.len() > 30_000, "screenshot of {} bytes", png.len());
}
