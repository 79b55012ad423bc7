//! Asking the person at the terminal, and reading answers from stdin for automation.
//!
//! Reads happen on a plain thread so that Ctrl-C (handled by the command) can end the
//! process while a read is blocked; the terminal's echo setting is saved first and restored
//! on interrupt, so an interrupted hidden prompt does not leave the terminal mute.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use crate::error::{Error, Result};
use tgsess_shared::secret::Secret;

static SAVED_TERMIOS: Mutex<Option<libc::termios>> = Mutex::new(None);

/// Remembers the terminal settings of stdin (when it is a terminal).
pub(crate) fn save_terminal() {
    if !std::io::stdin().is_terminal() {
        return;
    }
    // SAFETY: tcgetattr writes into a zeroed termios we own; fd 0 is a terminal.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut t) == 0
            && let Ok(mut g) = SAVED_TERMIOS.lock()
        {
            *g = Some(t);
        }
    }
}

/// Puts the terminal back as [`save_terminal`] found it.
pub(crate) fn restore_terminal() {
    if let Ok(g) = SAVED_TERMIOS.lock()
        && let Some(t) = *g
    {
        // SAFETY: restores settings previously read from the same fd.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &t);
        }
    }
}

async fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.await
        .map_err(|_| Error::usage("the input reader stopped unexpectedly"))
}

/// Prints `question` and reads one line from stdin; `None` at end of input.
pub(crate) async fn line(question: &str) -> Result<Option<String>> {
    {
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{question}");
        let _ = out.flush();
    }
    on_thread(|| {
        let mut s = String::new();
        match std::io::stdin().lock().read_line(&mut s) {
            Ok(0) => Ok(None),
            Ok(_) => Ok(Some(s.trim().to_string())),
            Err(e) => Err(Error::usage(format!("cannot read from stdin: {e}"))),
        }
    })
    .await?
}

/// Reads a secret without echo from the terminal; `None` when nothing was typed.
pub(crate) async fn hidden(question: &str) -> Result<Option<Secret>> {
    let q = question.to_string();
    on_thread(move || match rpassword::prompt_password(q) {
        Ok(s) if s.is_empty() => Ok(None),
        Ok(s) => Ok(Some(Secret::new(s))),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(Error::usage(format!("cannot read from the terminal: {e}"))),
    })
    .await?
}

/// Runs `fut` with a spinner on stderr when stderr is a terminal.
pub(crate) async fn busy<F: std::future::Future>(message: &str, fut: F) -> F::Output {
    if !std::io::stderr().is_terminal() {
        return fut.await;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    let out = fut.await;
    bar.finish_and_clear();
    out
}

/// Ctrl-C while `fut` runs (a login, a confirmation prompt): the terminal is restored and
/// the command ends with exit 130. Sessions are only written at the end of a successful
/// step, so nothing is lost.
pub(crate) async fn interruptible<T>(
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    save_terminal();
    // The handler is installed here, before `fut` can print a prompt: `ctrl_c()` would only
    // install it when first polled, and a Ctrl-C in between would kill the process silently.
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| Error::usage(format!("cannot handle Ctrl-C: {e}")))?;
    tokio::select! {
        biased;
        _ = sigint.recv() => {
            restore_terminal();
            eprintln!();
            crate::output::error("interrupted; the session was left as it was");
            Err(Error::Interrupted)
        }
        r = fut => r,
    }
}

/// Asks a yes/no question on the terminal; end of input or anything but yes is no.
pub(crate) async fn confirm(question: &str) -> Result<bool> {
    let answer = interruptible(line(&format!("{question} [y/N] "))).await?;
    if answer.is_none() {
        // End of input: the next message must not land on the prompt's line.
        println!();
    }
    Ok(matches!(
        answer.as_deref().map(str::trim),
        Some("y" | "Y" | "yes" | "YES" | "Yes")
    ))
}

/// A progress bar on stderr when it is a terminal, hidden otherwise.
pub(crate) fn progress(len: u64, message: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_message(message.to_string());
    bar
}
