#ifndef STEWARD_CNCURSES_SHIM_H
#define STEWARD_CNCURSES_SHIM_H
// Wide-character API (get_wch, cchar_t, mvwaddwstr) is hidden unless these come first.
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/ncurses.h>

// Swift 6 cannot read these C globals/macros; tiny accessors keep them usable.
static inline WINDOW *cn_stdscr(void) { return stdscr; }
static inline int cn_lines(void) { return LINES; }
static inline int cn_cols(void) { return COLS; }
static inline unsigned int cn_a_bold(void) { return A_BOLD; }
static inline unsigned int cn_a_reverse(void) { return A_REVERSE; }
static inline unsigned int cn_a_underline(void) { return A_UNDERLINE; }
static inline unsigned int cn_a_dim(void) { return A_DIM; }
static inline unsigned int cn_a_normal(void) { return A_NORMAL; }
static inline unsigned int cn_color_pair(int n) { return COLOR_PAIR(n); }
static inline int cn_key_f(int n) { return KEY_F(n); }
static inline unsigned long cn_all_mouse_events(void) { return ALL_MOUSE_EVENTS | REPORT_MOUSE_POSITION; }
static inline unsigned long cn_button1_pressed(void) { return BUTTON1_PRESSED; }
static inline unsigned long cn_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline unsigned long cn_button1_released(void) { return BUTTON1_RELEASED; }
static inline unsigned long cn_button4_pressed(void) { return BUTTON4_PRESSED; }
static inline unsigned long cn_button5_pressed(void) { return BUTTON5_PRESSED; }
static inline int cn_colors(void) { return COLORS; }

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <wchar.h>
#include <stdio.h>
#include <langinfo.h>

static inline unsigned int cn_a_italic(void) { return A_ITALIC; }
static inline int cn_color_pairs(void) { return COLOR_PAIRS; }

// Terminal restoration on every exit path. The flag is set only while curses owns the screen, so a
// signal before initscr or after endwin does nothing to the terminal.
static volatile sig_atomic_t cn_screen_active = 0;

static inline void cn_restore_terminal(void) {
    if (cn_screen_active) {
        cn_screen_active = 0;
        endwin();
        // Leave mouse tracking and show the cursor even if endwin could not.
        static const char reset[] = "\033[?1000l\033[?1002l\033[?1003l\033[?1006l\033[?25h";
        (void)!write(STDOUT_FILENO, reset, sizeof reset - 1);
    }
}

static inline void cn_signal_handler(int sig) {
    cn_restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

/// Installs SIGTERM/SIGINT/SIGHUP/SIGQUIT and crash (SEGV, BUS, ILL, TRAP, ABRT, FPE) handlers plus an
/// atexit hook, all of which call endwin before the process goes.
static inline void cn_install_restore_handlers(void) {
    static int installed = 0;
    if (installed) return;
    installed = 1;
    atexit(cn_restore_terminal);
    int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        sa.sa_handler = cn_signal_handler;
        sigaction(sigs[i], &sa, NULL);
    }
}

static inline void cn_flush_stdout(void) { fflush(stdout); }

static inline void cn_set_screen_active(int active) { cn_screen_active = active; }

/// Writes one cell (up to 5 scalars: base + combining marks) with attributes and a colour pair.
static inline int cn_put_cell(WINDOW *win, int y, int x, const wchar_t *text, attr_t attrs, int pair) {
    cchar_t cc;
    if (setcchar(&cc, text, attrs, (short)pair, NULL) != OK) return ERR;
    return mvwadd_wch(win, y, x, &cc);
}
#endif
