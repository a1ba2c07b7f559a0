//! Every key of the TUI, defined once (gitui's `src/keys/key_list.rs` is
//! the model): [`KEYS`] names each action's key presses; the key handlers
//! match against it ([`Binding::is`]), and the help screen and the footer
//! hints print it ([`Binding::long`], [`Binding::short`]). Rebinding a key
//! is a change here only.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Which modifiers a press needs: Shift and Alt never matter (a letter
/// carries its case), Control does unless `Any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mods {
    /// Without Control.
    Plain,
    /// With Control.
    Ctrl,
    /// With or without Control.
    Any,
}

/// One key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Press {
    pub code: KeyCode,
    pub mods: Mods,
}

const fn plain(c: char) -> Press {
    Press {
        code: KeyCode::Char(c),
        mods: Mods::Plain,
    }
}

const fn ctrl(c: char) -> Press {
    Press {
        code: KeyCode::Char(c),
        mods: Mods::Ctrl,
    }
}

const fn key(code: KeyCode) -> Press {
    Press {
        code,
        mods: Mods::Any,
    }
}

impl Press {
    pub fn is(&self, k: &KeyEvent) -> bool {
        let c = k.modifiers.contains(KeyModifiers::CONTROL);
        k.code == self.code
            && match self.mods {
                Mods::Plain => !c,
                Mods::Ctrl => c,
                Mods::Any => true,
            }
    }

    fn name(&self, ctrl_prefix: &str) -> String {
        let base = match self.code {
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift+Tab".into(),
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Char(c) if self.mods == Mods::Ctrl => c.to_ascii_uppercase().to_string(),
            KeyCode::Char(c) => c.to_string(),
            _ => "?".into(),
        };
        if self.mods == Mods::Ctrl {
            format!("{ctrl_prefix}{base}")
        } else {
            base
        }
    }

    /// As the help screen writes it: `Ctrl+F`, `↑`, `PgUp`.
    pub fn long(&self) -> String {
        self.name("Ctrl+")
    }

    /// As the footer writes it: `^F`.
    pub fn short(&self) -> String {
        self.name("^")
    }
}

/// The presses of one action; the first is the one hints show.
#[derive(Debug, Clone, Copy)]
pub struct Binding(pub &'static [Press]);

impl Binding {
    pub fn is(&self, k: &KeyEvent) -> bool {
        self.0.iter().any(|p| p.is(k))
    }

    /// Which of the presses `k` is (the digit of `panes`, the type of
    /// `types`).
    pub fn which(&self, k: &KeyEvent) -> Option<usize> {
        self.0.iter().position(|p| p.is(k))
    }

    /// The first press, for the help screen.
    pub fn long(&self) -> String {
        self.0.first().map(Press::long).unwrap_or_default()
    }

    /// The first press, for a footer.
    pub fn short(&self) -> String {
        self.0.first().map(Press::short).unwrap_or_default()
    }

    /// Every press, for the help screen, joined by `sep`.
    pub fn all(&self, sep: &str) -> String {
        self.0.iter().map(Press::long).collect::<Vec<_>>().join(sep)
    }
}

/// The TUI's keys, by action.
pub struct Keys {
    /// Quit (outside the help and the filter line).
    pub quit: Binding,
    /// Quit from anywhere.
    pub interrupt: Binding,
    pub help: Binding,
    pub close_help: Binding,
    pub next_pane: Binding,
    pub prev_pane: Binding,
    /// Go to pane N (the N-th press).
    pub panes: Binding,
    pub up: Binding,
    pub down: Binding,
    pub page_up: Binding,
    pub page_down: Binding,
    pub home: Binding,
    pub end: Binding,
    /// Open: a finding's file, a fix, a package, the selected layer's files.
    pub enter: Binding,
    /// Layers: show the layer's files.
    pub show_files: Binding,
    /// Tree: collapse, or go to the parent.
    pub collapse: Binding,
    /// Tree: expand, or go into the directory.
    pub expand: Binding,
    /// Tree: collapse or expand the directory.
    pub toggle_dir: Binding,
    pub toggle_all: Binding,
    pub collapse_all: Binding,
    pub expand_all: Binding,
    pub filter: Binding,
    /// Apply the filter being typed.
    pub apply: Binding,
    /// Stop typing the filter, keeping it.
    pub leave_filter: Binding,
    /// The filter line: delete a character, the whole line.
    pub erase: Binding,
    pub erase_line: Binding,
    /// Clear the filters (the comparison: show all paths).
    pub clear: Binding,
    /// Show or hide added, removed, modified, unchanged (in this order).
    pub types: Binding,
    pub attrs: Binding,
    pub sort: Binding,
    /// The tree: only the layer's changes / merged.
    pub layer_only: Binding,
    /// From the layers: the merged tree.
    pub merged: Binding,
    /// The comparison: only changed paths / all.
    pub changes_only: Binding,
    /// Files: open the selected file in the viewer (Enter on a file too).
    pub view: Binding,
    /// Files, viewer: every version of the path.
    pub history: Binding,
    /// Viewer, history, diff: back to where it was opened from.
    pub back: Binding,
    /// Viewer: type a search.
    pub search: Binding,
    /// Viewer: the next / previous match.
    pub next_match: Binding,
    pub prev_match: Binding,
    /// Viewer: read the next part of a file larger than what was read.
    pub more: Binding,
    /// Viewer: a text file as a hex dump, and back.
    pub hex: Binding,
    /// Viewer: scroll sideways.
    pub left: Binding,
    pub right: Binding,
    /// History: mark a version for a diff; on another marked one, diff them.
    pub diff: Binding,
    /// History: mark or unmark a version for a diff.
    pub mark: Binding,
}

pub static KEYS: Keys = Keys {
    quit: Binding(&[plain('q')]),
    interrupt: Binding(&[ctrl('c')]),
    help: Binding(&[plain('?')]),
    close_help: Binding(&[
        plain('?'),
        key(KeyCode::Esc),
        plain('q'),
        key(KeyCode::Enter),
    ]),
    next_pane: Binding(&[key(KeyCode::Tab)]),
    prev_pane: Binding(&[key(KeyCode::BackTab)]),
    panes: Binding(&[plain('1'), plain('2'), plain('3'), plain('4'), plain('5')]),
    up: Binding(&[key(KeyCode::Up), plain('k')]),
    down: Binding(&[key(KeyCode::Down), plain('j')]),
    page_up: Binding(&[key(KeyCode::PageUp)]),
    page_down: Binding(&[key(KeyCode::PageDown)]),
    home: Binding(&[key(KeyCode::Home), plain('g')]),
    end: Binding(&[key(KeyCode::End), plain('G')]),
    enter: Binding(&[key(KeyCode::Enter)]),
    show_files: Binding(&[key(KeyCode::Enter), key(KeyCode::Right), plain('l')]),
    collapse: Binding(&[key(KeyCode::Left), plain('h')]),
    expand: Binding(&[key(KeyCode::Right), plain('l')]),
    toggle_dir: Binding(&[plain(' '), key(KeyCode::Enter)]),
    // Ctrl+Space arrives as NUL on some terminals.
    toggle_all: Binding(&[
        ctrl(' '),
        Press {
            code: KeyCode::Char('\0'),
            mods: Mods::Any,
        },
    ]),
    collapse_all: Binding(&[plain('-')]),
    expand_all: Binding(&[plain('+'), plain('=')]),
    filter: Binding(&[ctrl('f'), plain('/')]),
    apply: Binding(&[key(KeyCode::Enter)]),
    leave_filter: Binding(&[ctrl('f')]),
    erase: Binding(&[key(KeyCode::Backspace)]),
    erase_line: Binding(&[ctrl('u')]),
    clear: Binding(&[key(KeyCode::Esc)]),
    types: Binding(&[ctrl('a'), ctrl('r'), ctrl('m'), ctrl('u')]),
    attrs: Binding(&[ctrl('b')]),
    sort: Binding(&[ctrl('o')]),
    layer_only: Binding(&[ctrl('l')]),
    merged: Binding(&[ctrl('a')]),
    changes_only: Binding(&[ctrl('u')]),
    view: Binding(&[plain('v')]),
    history: Binding(&[plain('H')]),
    back: Binding(&[key(KeyCode::Esc), plain('q')]),
    search: Binding(&[plain('/')]),
    next_match: Binding(&[plain('n')]),
    prev_match: Binding(&[plain('N')]),
    more: Binding(&[plain('m')]),
    hex: Binding(&[plain('x')]),
    left: Binding(&[key(KeyCode::Left), plain('h')]),
    right: Binding(&[key(KeyCode::Right), plain('l')]),
    diff: Binding(&[plain('d')]),
    mark: Binding(&[plain(' ')]),
};

/// Footer hint for a pair of bindings: `↑↓`.
pub fn pair(a: &Binding, b: &Binding) -> String {
    format!("{}{}", a.short(), b.short())
}

/// `^A/R/M/U`: control keys sharing the prefix.
pub fn ctrl_group(b: &Binding) -> String {
    let letters: Vec<String> =
        b.0.iter()
            .map(|p| p.short().trim_start_matches('^').to_string())
            .collect();
    format!("^{}", letters.join("/"))
}

/// The help screen's `↑ ↓ / k j`: first presses, then second presses.
pub fn pair_long(a: &Binding, b: &Binding) -> String {
    let first = format!("{} {}", a.long(), b.long());
    match (a.0.get(1), b.0.get(1)) {
        (Some(x), Some(y)) => format!("{first} / {} {}", x.long(), y.long()),
        _ => format!("{} / {}", a.long(), b.long()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_the_footers_and_help_write_them() {
        assert_eq!(pair(&KEYS.up, &KEYS.down), "↑↓");
        assert_eq!(ctrl_group(&KEYS.types), "^A/R/M/U");
        assert_eq!(KEYS.toggle_all.short(), "^Space");
        assert_eq!(pair_long(&KEYS.up, &KEYS.down), "↑ ↓ / k j");
        assert_eq!(pair_long(&KEYS.collapse, &KEYS.expand), "← → / h l");
        assert_eq!(
            pair_long(&KEYS.next_pane, &KEYS.prev_pane),
            "Tab / Shift+Tab"
        );
        assert_eq!(KEYS.filter.all(" or "), "Ctrl+F or /");
    }

    #[test]
    fn control_matters_shift_does_not() {
        let k = |c, m| KeyEvent::new(c, m);
        assert!(KEYS.quit.is(&k(KeyCode::Char('q'), KeyModifiers::NONE)));
        assert!(!KEYS.quit.is(&k(KeyCode::Char('q'), KeyModifiers::CONTROL)));
        assert!(KEYS.help.is(&k(KeyCode::Char('?'), KeyModifiers::SHIFT)));
        assert!(KEYS.up.is(&k(KeyCode::Up, KeyModifiers::CONTROL)));
        assert_eq!(
            KEYS.types
                .which(&k(KeyCode::Char('m'), KeyModifiers::CONTROL)),
            Some(2)
        );
    }
}
