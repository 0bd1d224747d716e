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
#endif
