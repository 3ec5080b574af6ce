#include "editretrydialog.h"

#include "accessibletext.h"
#include "argumentfield.h"
#include "statusstyle.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace taskbench::gui {

EditRetryDialog::EditRetryDialog(const QString &key,
                                 const QString &errorText,
                                 FunctionPtr function,
                                 const std::vector<Value> &arguments,
                                 int downstream,
                                 QWidget *parent,
                                 Purpose purpose)
    : QDialog(parent)
    , m_function(std::move(function))
{
    const bool held = purpose == ReleaseHeld;
    setWindowTitle(held ? tr("Edit held %1").arg(key) : tr("Edit & retry %1").arg(key));
    setAccessibleName(held ? tr("Edit held arguments") : tr("Edit and retry"));
    auto *layout = new QVBoxLayout(this);
    auto *head = new QLabel(
        held ? tr("<b>%1</b> is held at a breakpoint before it runs.").arg(key.toHtmlEscaped())
             : tr("<b>%1</b> failed:<br>%2").arg(key.toHtmlEscaped(), errorText.toHtmlEscaped()),
        this);
    head->setWordWrap(true);
    layout->addWidget(head);
    auto *note = new QLabel(
        held ? tr("Its inputs are shown as the values they resolved to. Change any of them, "
                  "then release the task: it runs once on these arguments.")
             : tr("Change the arguments and re-run. %n waiting downstream task(s) will "
                  "run on the new result; finished upstream results are reused.",
                  nullptr,
                  downstream),
        this);
    note->setWordWrap(true);
    layout->addWidget(note);
    auto *form = new QFormLayout;
    if (m_function) {
        for (std::size_t i = 0; i < m_function->params.size(); ++i) {
            auto *f = new ArgumentField(m_function->params[i], this);
            if (i < arguments.size())
                f->setValue(arguments[i]);
            auto *label = new QLabel(
                QString::fromStdString(m_function->params[i].name) + QLatin1Char(':'), this);
            label->setBuddy(f->focusWidget());
            form->addRow(label, f);
            m_fields.push_back(f);
        }
    }
    layout->addLayout(form);
    m_error = new QLabel(this);
    QPalette pal = m_error->palette();
    pal.setColor(QPalette::WindowText, statusColor(FutureStatus::Error));
    m_error->setPalette(pal);
    m_error->hide();
    layout->addWidget(m_error);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    const QString ok
        = held ? tr("&Release with these arguments") : tr("&Retry with these arguments");
    buttons->button(QDialogButtonBox::Ok)->setText(ok);
    buttons->button(QDialogButtonBox::Ok)->setAccessibleName(QString(ok).remove(QLatin1Char('&')));
    buttons->button(QDialogButtonBox::Cancel)->setAccessibleName(tr("Cancel"));
    connect(buttons, &QDialogButtonBox::accepted, this, &EditRetryDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &EditRetryDialog::reject);
    layout->addWidget(buttons);
}

void EditRetryDialog::accept()
{
    std::vector<Value> args;
    bool ok = true;
    for (ArgumentField *f : m_fields) {
        auto v = f->value();
        if (!v) {
            ok = false;
            continue;
        }
        args.push_back(std::move(*v));
    }
    if (!ok)
        return;
    std::string error;
    if (m_function && !FunctionRegistry::bindArguments(*m_function, args, {}, &error)) {
        setLabelText(m_error, QString::fromStdString(error));
        m_error->show();
        return;
    }
    m_result = std::move(args);
    QDialog::accept();
}

} // namespace taskbench::gui
