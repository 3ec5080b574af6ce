#include "submitform.h"

#include "accessibletext.h"
#include "argumentfield.h"
#include "choicepicker.h"
#include "formparts.h"
#include "functionchooser.h"
#include "icons.h"
#include "taskoptionsbox.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace taskbench::gui {

SubmitForm::SubmitForm(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);

    auto *top = new QFormLayout;
    m_chooser = new FunctionChooser(top, this, tr("&Function:"), tr("Function"));
    layout->addLayout(top);

    m_signature = new QLabel(this);
    m_signature->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_signature->setWordWrap(true);
    QFont mono = m_signature->font();
    mono.setFamily(QStringLiteral("monospace"));
    mono.setStyleHint(QFont::Monospace);
    m_signature->setFont(mono);
    layout->addWidget(m_signature);
    m_doc = new QLabel(this);
    m_doc->setWordWrap(true);
    m_doc->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(m_doc);

    m_fieldsHost = new QWidget(this);
    m_fieldsLayout = new QFormLayout(m_fieldsHost);
    m_fieldsLayout->setContentsMargins(0, 4, 0, 4);
    m_fieldsLayout->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    layout->addWidget(m_fieldsHost);

    m_options = new TaskOptionsBox({tr("&Pure (same call, same future)"),
                                    tr("Pure"),
                                    tr("&Retries:"),
                                    tr("Retries"),
                                    tr("Pr&iority:"),
                                    tr("Priority"),
                                    true},
                                   this);
    layout->addWidget(m_options);

    m_formError = newFormErrorLabel(this, tr("Submit error"));
    layout->addWidget(m_formError);

    m_submit = new QPushButton(themedIcon(QStringLiteral("submit")), tr("&Submit"), this);
    m_submit->setAccessibleName(tr("Submit"));
    m_submit->setToolTip(tr("Submit one call (Ctrl+Return)"));
    m_submit->setDefault(true);
    layout->addWidget(m_submit);
    layout->addStretch(1);

    connect(m_submit, &QPushButton::clicked, this, &SubmitForm::trySubmit);
    connect(m_chooser, &FunctionChooser::changed, this, [this](const QString &name) {
        rebuildFields();
        emit functionChanged(name);
    });
    rebuildFields();
}

void SubmitForm::setFunctions(const std::vector<FunctionPtr> &functions)
{
    m_chooser->setFunctions(functions);
}

void SubmitForm::setCurrentFunction(const QString &qualifiedName)
{
    m_chooser->setCurrent(qualifiedName);
}

QString SubmitForm::currentFunction() const
{
    return m_chooser->currentName();
}

FunctionPtr SubmitForm::currentFunctionInfo() const
{
    return m_chooser->current();
}

void SubmitForm::setFutureKeyModel(QAbstractItemModel *model, int column)
{
    m_keyModel = model;
    m_keyColumn = column;
    for (ArgumentField *f : m_fields)
        f->setFutureKeys(model, column);
}

void SubmitForm::setKeyValidator(std::function<bool(const QString &)> known)
{
    m_known = std::move(known);
    for (ArgumentField *f : m_fields)
        f->setKeyValidator(m_known);
}

void SubmitForm::setSelectionProvider(std::function<QStringList()> provider)
{
    m_selection = std::move(provider);
    for (ArgumentField *f : m_fields)
        f->setSelectionProvider(m_selection);
}

ArgumentField *SubmitForm::field(const QString &name) const
{
    for (ArgumentField *f : m_fields)
        if (QString::fromStdString(f->param().name) == name)
            return f;
    return nullptr;
}

void SubmitForm::rebuildFields()
{
    while (m_fieldsLayout->rowCount() > 0)
        m_fieldsLayout->removeRow(0);
    m_fields.clear();
    m_formError->hide();
    const FunctionPtr &function = m_chooser->current();
    if (!function) {
        m_signature->setText(tr("No task function loaded. Load a plugin first."));
        m_doc->clear();
        m_submit->setEnabled(false);
        return;
    }
    m_signature->setText(QString::fromStdString(function->signature()));
    m_doc->setText(QString::fromStdString(function->doc));
    m_doc->setVisible(!function->doc.empty());
    QWidget *previous = m_chooser->picker();
    for (const sdk::ParamSpec &p : function->params) {
        auto *f = new ArgumentField(p, m_fieldsHost);
        if (m_keyModel)
            f->setFutureKeys(m_keyModel, m_keyColumn);
        f->setKeyValidator(m_known);
        f->setSelectionProvider(m_selection);
        auto *label
            = new QLabel(QStringLiteral("%1:").arg(QString::fromStdString(p.name)), m_fieldsHost);
        label->setBuddy(f->focusWidget());
        label->setToolTip(QString::fromStdString(p.type));
        m_fieldsLayout->addRow(label, f);
        QWidget::setTabOrder(previous, f->focusWidget());
        previous = f->focusWidget();
        m_fields.push_back(f);
    }
    if (function->params.empty())
        m_fieldsLayout->addRow(new QLabel(tr("This function takes no arguments."), m_fieldsHost));
    m_submit->setEnabled(true);
}

bool SubmitForm::trySubmit()
{
    m_formError->hide();
    if (!m_chooser->current()) {
        showFormError(tr("Choose a function first"));
        return false;
    }
    std::vector<Value> args;
    bool ok = true;
    ArgumentField *firstBad = nullptr;
    for (ArgumentField *f : m_fields) {
        auto v = f->value();
        if (!v) {
            ok = false;
            if (!firstBad)
                firstBad = f;
            continue;
        }
        args.push_back(std::move(*v));
    }
    if (!ok) {
        firstBad->focusWidget()->setFocus();
        return false;
    }
    std::string error;
    if (!FunctionRegistry::bindArguments(*m_chooser->current(), args, {}, &error)) {
        showFormError(QString::fromStdString(error));
        return false;
    }
    const SubmitOptions opts = m_options->options();
    emit submitRequested(QString::fromStdString(m_chooser->current()->qualifiedName), args, opts);
    return true;
}

void SubmitForm::showFormError(const QString &message)
{
    setLabelText(m_formError, message);
    m_formError->show();
}

QString SubmitForm::formError() const
{
    return m_formError->isHidden() ? QString() : m_formError->text();
}

} // namespace taskbench::gui
