// The stack window of a running task (see stackwindow.h).
#include "stackwindow.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFutureWatcher>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace taskbench::gui {

void showTaskStack(QWidget *parent, std::shared_ptr<Client> client, const QString &key)
{
    auto *dialog = new QDialog(parent);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(QObject::tr("Stack — %1").arg(key));
    dialog->resize(800, 500);
    auto *text = new QPlainTextEdit(dialog);
    text->setReadOnly(true);
    text->setAccessibleName(QObject::tr("Native stack of %1").arg(key));
    text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    text->setPlainText(QObject::tr("Taking the stack of %1…").arg(key));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    buttons->button(QDialogButtonBox::Close)->setAccessibleName(QObject::tr("Close"));
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
    auto *layout = new QVBoxLayout(dialog);
    layout->addWidget(text);
    layout->addWidget(buttons);
    dialog->show();

    if (!client) {
        text->setPlainText(QObject::tr("No cluster is running."));
        return;
    }
    // Off the GUI thread: stackOf waits for eu-stack.
    auto *watcher = new QFutureWatcher<QString>(dialog);
    QPointer<QPlainTextEdit> target(text);
    QObject::connect(watcher, &QFutureWatcher<QString>::finished, dialog, [watcher, target] {
        if (target)
            target->setPlainText(watcher->result());
    });
    watcher->setFuture(QtConcurrent::run([client, k = key.toStdString()] {
        std::string error;
        const std::optional<std::string> stack = client->stackOf(k, &error);
        return QString::fromStdString(stack ? *stack : "No stack: " + error);
    }));
}

} // namespace taskbench::gui
