//! An X server for the editor tests: an Xvfb of their own on a display it picks, a top-level
//! window for a plugin's GUI to embed in (the host's side of CLAP's `x11` API and VST3's
//! `X11EmbedWindowID`), and screenshots of that window as RGB pixels and PNG files.
//!
//! Xvfb renders OpenGL through Mesa's software rasteriser, so the plugin's editor draws exactly
//! as on a desktop, without a GPU or a display.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, CreateWindowAux, ImageFormat, Window, WindowClass};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use x11rb::COPY_DEPTH_FROM_PARENT;

/// How long Xvfb may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running Xvfb, shared by every test of the process that asks for it, and stopped when
/// the process ends.
///
/// Never stopped earlier: Xlib ends its process when a server it is connected to goes away,
/// and a plugin's window system may keep a connection open after its window closed.
pub struct Xvfb {
    display: String,
}

impl Xvfb {
    /// The process's Xvfb, started on first use with one 24-bit screen of `width` ×
    /// `height` (later calls get the same server, whatever size they ask).
    pub fn shared(width: u32, height: u32) -> Result<&'static Xvfb> {
        static SERVER: OnceLock<std::result::Result<Xvfb, String>> = OnceLock::new();
        SERVER
            .get_or_init(|| Xvfb::start(width, height).map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow!("{e}"))
    }

    /// Starts Xvfb on a display it picks itself (`-displayfd`: no race with other servers
    /// starting at the same time), under a shell that stops it once this process has ended,
    /// and waits until it accepts connections.
    fn start(width: u32, height: u32) -> Result<Xvfb> {
        let number_file =
            std::env::temp_dir().join(format!("sirenade-xvfb-{}", std::process::id()));
        let script = format!(
            "Xvfb -displayfd 3 -screen 0 {width}x{height}x24 -nolisten tcp 3>\"$1\" \
             >/dev/null 2>&1 & server=$!; \
             while kill -0 {parent} 2>/dev/null && kill -0 $server 2>/dev/null; do sleep 1; done; \
             kill $server 2>/dev/null",
            parent = std::process::id()
        );
        Command::new("sh")
            .args(["-c", &script, "sirenade-xvfb"])
            .arg(&number_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting Xvfb through sh")?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let number = std::fs::read_to_string(&number_file).unwrap_or_default();
            if number.ends_with('\n') {
                let display = format!(":{}", number.trim());
                if RustConnection::connect(Some(&display)).is_ok() {
                    let _ = std::fs::remove_file(&number_file);
                    return Ok(Xvfb { display });
                }
            }
            if Instant::now() > deadline {
                let _ = std::fs::remove_file(&number_file);
                bail!(
                    "Xvfb did not start within {START_TIMEOUT:?} (Debian package `xvfb`; \
                     scripts/setup.sh installs it)"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The display name (`:1`), for `DISPLAY`.
    pub fn display(&self) -> &str {
        &self.display
    }
}

/// A top-level window on the server, the parent a plugin GUI embeds in.
pub struct HostWindow {
    conn: RustConnection,
    window: Window,
    width: u16,
    height: u16,
}

impl HostWindow {
    /// Creates and maps a `width` × `height` window with a black background on `display`.
    pub fn open(display: &str, width: u16, height: u16) -> Result<HostWindow> {
        let (conn, screen_num) = RustConnection::connect(Some(display))
            .with_context(|| format!("connecting to X display {display}"))?;
        let screen = &conn.setup().roots[screen_num];
        let window = conn.generate_id()?;
        conn.create_window(
            COPY_DEPTH_FROM_PARENT,
            window,
            screen.root,
            0,
            0,
            width,
            height,
            0,
            WindowClass::INPUT_OUTPUT,
            screen.root_visual,
            &CreateWindowAux::new().background_pixel(screen.black_pixel),
        )?;
        conn.map_window(window)?;
        conn.sync()?;
        Ok(HostWindow {
            conn,
            window,
            width,
            height,
        })
    }

    /// The window's X id (what CLAP's `clap_window.x11` and VST3's `X11EmbedWindowID` carry).
    pub fn id(&self) -> u32 {
        self.window
    }

    /// Resizes the window.
    pub fn resize(&mut self, width: u16, height: u16) -> Result<()> {
        self.conn.configure_window(
            self.window,
            &x11rb::protocol::xproto::ConfigureWindowAux::new()
                .width(u32::from(width))
                .height(u32::from(height)),
        )?;
        self.conn.sync()?;
        self.width = width;
        self.height = height;
        Ok(())
    }

    /// Ids of the window's children (an embedded GUI is one).
    pub fn children(&self) -> Result<Vec<u32>> {
        Ok(self.conn.query_tree(self.window)?.reply()?.children)
    }

    /// The window's contents as they are on screen, embedded children included.
    pub fn screenshot(&self) -> Result<Screenshot> {
        let reply = self
            .conn
            .get_image(
                ImageFormat::Z_PIXMAP,
                self.window,
                0,
                0,
                self.width,
                self.height,
                !0,
            )?
            .reply()?;
        let (w, h) = (usize::from(self.width), usize::from(self.height));
        let bytes_per_pixel = reply.data.len() / (w * h).max(1);
        if bytes_per_pixel != 4 {
            bail!(
                "unexpected X image layout: {} bytes for {w}x{h}",
                reply.data.len()
            );
        }
        // A 24-bit Z-pixmap on a little-endian server: B, G, R, pad.
        let rgb = reply
            .data
            .chunks_exact(4)
            .flat_map(|p| [p[2], p[1], p[0]])
            .collect();
        Ok(Screenshot {
            width: w,
            height: h,
            rgb,
        })
    }
}

/// Pixels of a window.
#[derive(Debug, Clone)]
pub struct Screenshot {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Row-major RGB.
    pub rgb: Vec<u8>,
}

impl Screenshot {
    /// The pixel at (x, y).
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = 3 * (y * self.width + x);
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Number of distinct colours.
    pub fn distinct_colours(&self) -> usize {
        let mut seen: Vec<u32> = self
            .rgb
            .chunks_exact(3)
            .map(|p| u32::from(p[0]) << 16 | u32::from(p[1]) << 8 | u32::from(p[2]))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    /// The pixels within `tolerance` (per channel) of `colour`: their count and bounding box
    /// `(left, top, right, bottom)`.
    pub fn find(&self, colour: [u8; 3], tolerance: u8) -> (usize, Option<[usize; 4]>) {
        let mut count = 0;
        let mut bbox: Option<[usize; 4]> = None;
        for y in 0..self.height {
            for x in 0..self.width {
                let p = self.pixel(x, y);
                if p.iter()
                    .zip(colour)
                    .all(|(&a, b)| a.abs_diff(b) <= tolerance)
                {
                    count += 1;
                    bbox = Some(match bbox {
                        None => [x, y, x, y],
                        Some([l, t, r, b]) => [l.min(x), t.min(y), r.max(x), b.max(y)],
                    });
                }
            }
        }
        (count, bbox)
    }

    /// Writes the screenshot as a PNG file (through a temporary file, then renamed).
    pub fn save_png(&self, path: &Path) -> Result<PathBuf> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("png.tmp");
        {
            let file = std::fs::File::create(&tmp)
                .with_context(|| format!("creating {}", tmp.display()))?;
            let mut encoder = png::Encoder::new(
                std::io::BufWriter::new(file),
                self.width as u32,
                self.height as u32,
            );
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header()?;
            writer.write_image_data(&self.rgb)?;
            writer.finish()?;
        }
        std::fs::rename(&tmp, path)?;
        Ok(path.to_path_buf())
    }
}
