// Pieces the Submit and Map forms both build: a function's entry in a picker (the function
// picker itself is functionchooser.h) and the inline error label under the options.
#pragma once

#include "taskbench/functionregistry.h"

#include <QString>

class QLabel;
class QWidget;

namespace taskbench::gui {

class ChoicePicker;

/// Appends `f` to `picker`: its name (also the item's data) and its signature as tooltip.
void addFunctionItem(ChoicePicker *picker, const FunctionInfo &f);
/// A hidden, word-wrapped label in the error colour for a form's inline messages.
QLabel *newFormErrorLabel(QWidget *parent, const QString &accessibleName);

} // namespace taskbench::gui
