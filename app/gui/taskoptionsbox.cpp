// TaskOptionsBox: the options group of the Submit and Map forms (taskoptionsbox.h).
#include "taskoptionsbox.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>

namespace taskbench::gui {

namespace {
QSpinBox *addSpin(QFormLayout *form, const QString &label, const QString &name, int lo, int hi)
{
    auto *spin = new QSpinBox(form->parentWidget());
    spin->setRange(lo, hi);
    spin->setAccessibleName(name);
    auto *l = new QLabel(label, form->parentWidget());
    l->setBuddy(spin);
    form->addRow(l, spin);
    return spin;
}
} // namespace

TaskOptionsBox::TaskOptionsBox(const Texts &texts, QWidget *parent)
    : QGroupBox(tr("Options"), parent)
{
    auto *form = new QFormLayout(this);
    if (texts.withKey) {
        m_key = new QLineEdit(this);
        m_key->setPlaceholderText(tr("automatic (function-token)"));
        m_key->setAccessibleName(tr("Key"));
        m_key->setClearButtonEnabled(true);
        auto *keyLabel = new QLabel(tr("&Key:"), this);
        keyLabel->setBuddy(m_key);
        form->addRow(keyLabel, m_key);
    }
    m_pure = new QCheckBox(texts.pure, this);
    m_pure->setChecked(true);
    m_pure->setAccessibleName(texts.pureName);
    form->addRow(m_pure);
    m_retries = addSpin(form, texts.retries, texts.retriesName, 0, 100);
    m_priority = addSpin(form, texts.priority, texts.priorityName, -1000, 1000);
}

SubmitOptions TaskOptionsBox::options() const
{
    SubmitOptions opts;
    if (m_key)
        opts.key = m_key->text().trimmed().toStdString();
    opts.pure = m_pure->isChecked();
    opts.retries = m_retries->value();
    opts.priority = m_priority->value();
    return opts;
}

} // namespace taskbench::gui
