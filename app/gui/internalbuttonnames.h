// Accessible names for the buttons Qt widgets make themselves. Over AT-SPI a QToolBar's
// overflow button ("»", qt_toolbar_ext_button), a QLineEdit's clear button and the icon
// buttons of QLineEdit::addAction() are push buttons without a name: Qt gives them none
// (the clear action has no text). One application-wide event filter names each such
// button when it is polished, so every toolbar and line edit, those of dialogs made later
// included, gets them without a call where it is created.
#pragma once

class QWidget;

namespace taskbench::gui {

/// Installs the filter on the application once (later calls do nothing). The main window
/// calls it; a test may too.
void nameInternalButtons();

/// Names the internal buttons of `root` and its children now (what the filter does on
/// polish); for widgets that were polished before the filter was installed.
void nameInternalButtonsOf(QWidget *root);

} // namespace taskbench::gui
