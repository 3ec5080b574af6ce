// Pieces the Submit and Map forms both build: the function picker with its label, a
// function's entry in it, and the inline error label under the options.
#pragma once

#include "taskbench/functionregistry.h"

#include <QString>

class QFormLayout;
class QLabel;
class QWidget;

namespace taskbench::gui {

class ChoicePicker;

/// A function picker added to `form` as a row, with `label` as its buddy.
ChoicePicker *addFunctionPicker(QFormLayout *form,
                                QWidget *parent,
                                const QString &label,
                                const QString &accessibleName);
/// Appends `f` to `picker`: its name (also the item's data) and its signature as tooltip.
void addFunctionItem(ChoicePicker *picker, const FunctionInfo &f);
/// A hidden, word-wrapped label in the error colour for a form's inline messages.
QLabel *newFormErrorLabel(QWidget *parent, const QString &accessibleName);

} // namespace taskbench::gui
