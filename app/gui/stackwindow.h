// "Show stack" (futures context menu, Ctrl+Shift+K): the native stack of the thread that runs
// a task on a process worker, taken by Client::stackOf on a pool thread (eu-stack takes a
// fraction of a second) and shown in a read-only text window when it arrives.
#pragma once

#include "taskbench/client.h"

#include <QString>
#include <QWidget>

#include <memory>

namespace taskbench::gui {

/// Opens a window for task `key` at once ("Taking the stack…") and fills it in later; the
/// window deletes itself when closed. A null client shows why there is no stack.
void showTaskStack(QWidget *parent, std::shared_ptr<Client> client, const QString &key);

} // namespace taskbench::gui
