//! The terminal side: raw mode and the alternate screen (restored on exit and on panic by
//! ratatui's hook), and a tokio loop that reads keys, draws frames on a tick and takes
//! the latest snapshot from the simulation thread.

use crate::app::App;
use crate::cast::Recorder;
use crate::runner::{self, Control};
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub struct Options {
    /// A built-in name or a file path to open at once (else the picker).
    pub scenario: Option<String>,
    pub seed: Option<u64>,
    /// Where `w` writes session seed files.
    pub save_dir: PathBuf,
    pub color: bool,
    /// Record the session as an asciicast (v2) into this file.
    pub record: Option<PathBuf>,
    /// Set (to the signal's number) by the caller's SIGINT, SIGTERM and SIGHUP handlers:
    /// the UI then restores the terminal and returns, as when the user quits.
    pub stop: Arc<AtomicUsize>,
}

/// Runs the TUI until the user quits, or a signal sets `options.stop`; returns that
/// signal's number, if one ended it.
pub fn run(options: Options) -> anyhow::Result<Option<i32>> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    let initial = options.scenario.clone().map(|s| (s, options.seed));
    let (channels, sim_thread) = runner::spawn(initial, options.save_dir.clone());
    let size = crossterm::terminal::size().unwrap_or((80, 24));
    let out = match &options.record {
        Some(path) => {
            Recorder::to_file(std::io::stdout(), path, size, options.scenario.as_deref().unwrap_or("scalelab"))
                .map_err(|e| anyhow::anyhow!("cannot record into {}: {e}", path.display()))?
        }
        None => Recorder::plain(std::io::stdout()),
    };
    // ratatui's init enters raw mode and the alternate screen and restores them on a
    // panic; frames go through the recorder.
    drop(ratatui::init());
    let mut terminal = Terminal::new(CrosstermBackend::new(out))?;
    let result = rt.block_on(ui_loop(&mut terminal, &channels, options.color, &options.stop));
    ratatui::restore();
    let _ = channels.controls.send(Control::Quit);
    drop(channels);
    let _ = sim_thread.join();
    result.map(|()| match options.stop.load(Ordering::Relaxed) {
        0 => None,
        s => Some(s as i32),
    })
}

async fn ui_loop(
    terminal: &mut Terminal<CrosstermBackend<Recorder<std::io::Stdout>>>,
    channels: &runner::Channels,
    color: bool,
    stop: &AtomicUsize,
) -> anyhow::Result<()> {
    let mut app = App::new(color);
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(33));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        terminal.draw(|f| crate::view::draw(&app, f))?;
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => {
                    for c in app.on_key(key) {
                        if channels.controls.send(c).is_err() {
                            return Ok(());
                        }
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            _ = tick.tick() => {}
        }
        while let Ok(m) = channels.messages.try_recv() {
            app.on_message(m);
        }
        if let Ok(s) = channels.snapshots.try_recv() {
            for c in app.on_snapshot(*s) {
                if channels.controls.send(c).is_err() {
                    return Ok(());
                }
            }
        }
        if app.interrupted {
            // SIGINT's number (2 on every Unix): the caller reports and exits as for the signal.
            let _ = stop.compare_exchange(0, 2, Ordering::Relaxed, Ordering::Relaxed);
        }
        if app.quit || stop.load(Ordering::Relaxed) != 0 {
            return Ok(());
        }
    }
}
