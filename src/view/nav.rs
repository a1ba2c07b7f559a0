//! Moving through a [`Tree`]'s rows: which directories are expanded, preorder
//! next/previous over the rows, and the cursor (selected row and the row at
//! the top of the screen), all in O(depth) per step whatever the tree's size.

use rustc_hash::FxHashSet;

use super::tree::Tree;
use crate::load::index::{Index, NodeId, ROOT};

/// Which directories are expanded: a default plus the exceptions, so
/// collapse-all and expand-all are O(1).
#[derive(Debug, Clone, Default)]
pub struct Expansion {
    pub collapsed_by_default: bool,
    pub flipped: FxHashSet<NodeId>,
}

impl Expansion {
    pub fn expanded(&self, id: NodeId) -> bool {
        id == ROOT || (self.collapsed_by_default == self.flipped.contains(&id))
    }
    pub fn set(&mut self, id: NodeId, expanded: bool) {
        if expanded != self.collapsed_by_default {
            self.flipped.remove(&id);
        } else {
            self.flipped.insert(id);
        }
    }
    pub fn all(&mut self, expanded: bool) {
        self.collapsed_by_default = !expanded;
        self.flipped.clear();
    }
    /// Expand every ancestor of `id`, so it is a row if it is shown.
    pub fn reveal(&mut self, index: &Index, id: NodeId) {
        let mut a = index.parent(id);
        while a != ROOT {
            self.set(a, true);
            a = index.parent(a);
        }
    }
}

/// Preorder navigation over the rows (shown nodes under expanded parents).
pub struct Nav<'a> {
    pub index: &'a Index,
    pub tree: &'a Tree,
    pub exp: &'a Expansion,
}

impl Nav<'_> {
    /// The first or last child of an expanded node.
    fn open_child(&self, id: NodeId, last: bool) -> Option<NodeId> {
        if !self.exp.expanded(id) {
            return None;
        }
        let kids = self.tree.children(self.index, id);
        if last {
            kids.last().copied()
        } else {
            kids.first().copied()
        }
    }
    pub fn first(&self) -> Option<NodeId> {
        self.tree.children(self.index, ROOT).first().copied()
    }
    pub fn last(&self) -> Option<NodeId> {
        let mut n = *self.tree.children(self.index, ROOT).last()?;
        while let Some(c) = self.open_child(n, true) {
            n = c;
        }
        Some(n)
    }
    pub fn next(&self, id: NodeId) -> Option<NodeId> {
        if let Some(c) = self.open_child(id, false) {
            return Some(c);
        }
        let mut n = id;
        while n != ROOT {
            let p = self.index.parent(n);
            let sib = self.tree.children(self.index, p);
            let i = self.tree.position(self.index, n) + 1;
            if i < sib.len() {
                return Some(sib[i]);
            }
            n = p;
        }
        None
    }
    pub fn prev(&self, id: NodeId) -> Option<NodeId> {
        let p = self.index.parent(id);
        let i = self.tree.position(self.index, id);
        if i == 0 {
            return (p != ROOT).then_some(p);
        }
        let mut n = self.tree.children(self.index, p)[i - 1];
        while let Some(c) = self.open_child(n, true) {
            n = c;
        }
        Some(n)
    }
    /// Is the node a row now (shown, and every ancestor expanded)?
    pub fn is_row(&self, id: NodeId) -> bool {
        if id == ROOT || !self.tree.shown(id) {
            return false;
        }
        let mut n = self.index.parent(id);
        while n != ROOT {
            if !self.exp.expanded(n) {
                return false;
            }
            n = self.index.parent(n);
        }
        true
    }
    /// The nearest row at or above `id` (its first ancestor that is a row).
    pub fn row_for(&self, id: NodeId) -> Option<NodeId> {
        // The outermost collapsed or unshown ancestor decides.
        let mut chain = Vec::new();
        let mut n = id;
        while n != ROOT {
            chain.push(n);
            n = self.index.parent(n);
        }
        let mut best = None;
        for &a in chain.iter().rev() {
            if !self.tree.shown(a) {
                break;
            }
            best = Some(a);
            if !self.exp.expanded(a) {
                break;
            }
        }
        best.or_else(|| self.first())
    }
}

/// The selected row, the row drawn at the top of a window `h` rows high, and
/// the selection's row in that window (`sel` is `sel_row` rows below `top`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub sel: Option<NodeId>,
    pub top: Option<NodeId>,
    pub sel_row: usize,
}

impl Cursor {
    /// On the first row.
    pub fn first(&mut self, nav: &Nav) {
        self.sel = nav.first();
        self.top = self.sel;
        self.sel_row = 0;
    }

    /// On the last row, at the bottom of the window.
    pub fn last(&mut self, nav: &Nav, h: usize) {
        self.sel = nav.last();
        self.sel_row = h.saturating_sub(1);
        self.reanchor(nav, h);
    }

    /// Keep `sel` a row (moving it to its nearest row ancestor) and `top`
    /// `sel_row` rows above it (fewer when there are not that many rows).
    pub fn reanchor(&mut self, nav: &Nav, h: usize) {
        let sel = match self.sel {
            Some(s) if nav.is_row(s) => Some(s),
            Some(s) => nav.row_for(s),
            None => nav.first(),
        };
        let mut top = sel;
        let mut steps = 0;
        if let Some(mut t) = sel {
            while steps < self.sel_row.min(h.saturating_sub(1)) {
                match nav.prev(t) {
                    Some(p) => t = p,
                    None => break,
                }
                steps += 1;
            }
            top = Some(t);
        }
        self.sel = sel;
        self.top = top;
        self.sel_row = steps;
    }

    /// One row down, scrolling when at the bottom; false at the last row.
    pub fn down(&mut self, nav: &Nav, h: usize) -> bool {
        let Some(s) = self.sel else { return false };
        let Some(n) = nav.next(s) else { return false };
        if self.sel_row + 1 >= h.max(1) {
            self.top = self.top.and_then(|t| nav.next(t));
        } else {
            self.sel_row += 1;
        }
        self.sel = Some(n);
        true
    }

    /// One row up, scrolling when at the top; false at the first row.
    pub fn up(&mut self, nav: &Nav) -> bool {
        let Some(s) = self.sel else { return false };
        let Some(p) = nav.prev(s) else { return false };
        if self.sel_row == 0 {
            self.top = Some(p);
        } else {
            self.sel_row -= 1;
        }
        self.sel = Some(p);
        true
    }

    /// Select `node` (a row: see [`Expansion::reveal`]), a third of the
    /// window down.
    pub fn select(&mut self, nav: &Nav, node: NodeId, h: usize) {
        self.sel = Some(node);
        self.sel_row = h / 3;
        self.reanchor(nav, h);
    }

    /// Select the parent directory, keeping it where it is on screen when it
    /// is in the window; false at the top level.
    pub fn to_parent(&mut self, nav: &Nav) -> bool {
        let Some(s) = self.sel else { return false };
        let p = nav.index.parent(s);
        if p == ROOT {
            return false;
        }
        let mut steps = 0;
        let mut n = s;
        while steps <= self.sel_row {
            match nav.prev(n) {
                Some(x) => n = x,
                None => break,
            }
            steps += 1;
            if n == p {
                break;
            }
        }
        if n == p && steps <= self.sel_row {
            self.sel_row -= steps;
        } else {
            self.sel_row = 0;
            self.top = Some(p);
        }
        self.sel = Some(p);
        true
    }

    /// The node on window row `r`, if there is one.
    pub fn row_at(&self, nav: &Nav, r: usize) -> Option<NodeId> {
        let mut n = self.top;
        for _ in 0..r {
            n = n.and_then(|x| nav.next(x));
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::three_layers;
    use crate::view::tree::{hide_kinds, Key, Mode, Sort, Types};

    fn tree(index: &Index, report: &crate::Report, layer: usize, mode: Mode, sort: Sort) -> Tree {
        let key = Key {
            layer,
            mode,
            sort,
            types: Types::default(),
            filter: String::new(),
        };
        Tree::build(index, &hide_kinds(report), key, None)
    }

    /// Walking the rows forwards and backwards visits every shown path once,
    /// parents before children, in every layer and mode, sorted either way.
    #[test]
    fn navigation_visits_every_row_once_in_preorder() {
        let (ix, report) = three_layers();
        let exp = Expansion::default();
        for layer in 0..ix.layers.len() {
            for mode in [Mode::Merged, Mode::LayerOnly] {
                for sort in [Sort::Name, Sort::Size] {
                    let t = tree(&ix, &report, layer, mode, sort);
                    let nav = Nav {
                        index: &ix,
                        tree: &t,
                        exp: &exp,
                    };
                    let mut rows = Vec::new();
                    let mut cur = nav.first();
                    while let Some(n) = cur {
                        rows.push(n);
                        cur = nav.next(n);
                    }
                    let what = format!("layer {layer} {mode:?} {sort:?}");
                    assert_eq!(rows.len(), t.shown_count, "{what}");
                    assert_eq!(rows.last().copied(), nav.last(), "{what}");
                    let mut back = Vec::new();
                    let mut cur = nav.last();
                    while let Some(n) = cur {
                        back.push(n);
                        cur = nav.prev(n);
                    }
                    back.reverse();
                    assert_eq!(rows, back, "{what}");
                    for (i, &n) in rows.iter().enumerate() {
                        let p = ix.parent(n);
                        assert!(p == ROOT || rows[..i].contains(&p), "{what}");
                    }
                }
            }
        }
    }

    fn names(ix: &Index, n: Option<NodeId>) -> String {
        n.map(|n| String::from_utf8_lossy(&ix.path(n)).into_owned())
            .unwrap_or_default()
    }

    #[test]
    fn cursor_scrolls_at_the_window_edges() {
        let (ix, report) = three_layers();
        let t = tree(&ix, &report, 0, Mode::Merged, Sort::Name);
        let exp = Expansion::default();
        let nav = Nav {
            index: &ix,
            tree: &t,
            exp: &exp,
        };
        let mut c = Cursor::default();
        c.first(&nav);
        assert_eq!(names(&ix, c.sel), "/bin");
        // Rows: /bin /bin/sh /bin/x /etc /etc/a /usr /usr/lib /usr/lib/big.
        for _ in 0..3 {
            assert!(c.down(&nav, 3));
        }
        assert_eq!(
            (names(&ix, c.sel), names(&ix, c.top), c.sel_row),
            ("/etc".into(), "/bin/sh".into(), 2)
        );
        assert!(c.up(&nav));
        assert_eq!((names(&ix, c.sel), c.sel_row), ("/bin/x".into(), 1));
        assert!(c.up(&nav) && c.up(&nav));
        assert_eq!(
            (names(&ix, c.sel), names(&ix, c.top), c.sel_row),
            ("/bin".into(), "/bin".into(), 0)
        );
        assert!(!c.up(&nav));
        c.last(&nav, 3);
        assert_eq!(
            (names(&ix, c.sel), names(&ix, c.top), c.sel_row),
            ("/usr/lib/big".into(), "/usr".into(), 2)
        );
        assert!(!c.down(&nav, 3));
        assert_eq!(names(&ix, c.row_at(&nav, 1)), "/usr/lib");
        assert_eq!(c.row_at(&nav, 3), None);
        // The parent is on screen: the selection moves up to it.
        assert!(c.to_parent(&nav));
        assert_eq!(
            (names(&ix, c.sel), names(&ix, c.top), c.sel_row),
            ("/usr/lib".into(), "/usr".into(), 1)
        );
        assert!(c.to_parent(&nav));
        assert!(!c.to_parent(&nav));
        assert_eq!((names(&ix, c.sel), c.sel_row), ("/usr".into(), 0));
    }

    #[test]
    fn collapsing_moves_the_cursor_to_the_row_that_hides_it() {
        let (ix, report) = three_layers();
        let t = tree(&ix, &report, 0, Mode::Merged, Sort::Name);
        let mut exp = Expansion::default();
        let big = ix.find(b"/usr/lib/big").unwrap();
        let mut c = Cursor::default();
        c.select(
            &Nav {
                index: &ix,
                tree: &t,
                exp: &exp,
            },
            big,
            9,
        );
        assert_eq!(c.sel, Some(big));
        assert_eq!(names(&ix, c.top), "/etc/a", "a third of the window down");
        exp.set(ix.find(b"/usr").unwrap(), false);
        c.reanchor(
            &Nav {
                index: &ix,
                tree: &t,
                exp: &exp,
            },
            9,
        );
        assert_eq!(names(&ix, c.sel), "/usr");
        // Collapse everything, then reveal the file again.
        exp.all(false);
        let nav = Nav {
            index: &ix,
            tree: &t,
            exp: &exp,
        };
        assert!(!nav.is_row(big));
        assert_eq!(nav.row_for(big), ix.find(b"/usr"));
        exp.reveal(&ix, big);
        let nav = Nav {
            index: &ix,
            tree: &t,
            exp: &exp,
        };
        assert!(nav.is_row(big));
        assert!(!nav.is_row(ix.find(b"/bin/sh").unwrap()));
    }
}
