// The forms' function picker (functionchooser.h).
#include "functionchooser.h"

#include "choicepicker.h"
#include "formparts.h"

#include <QFormLayout>
#include <QLabel>
#include <QSignalBlocker>

namespace taskbench::gui {

FunctionChooser::FunctionChooser(QFormLayout *form,
                                 QWidget *parent,
                                 const QString &label,
                                 const QString &accessibleName)
    : QObject(parent)
    , m_picker(new ChoicePicker(parent))
{
    m_picker->setAccessibleName(accessibleName);
    m_picker->setMinimumContentsLength(14);
    m_picker->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    auto *l = new QLabel(label, parent);
    l->setBuddy(m_picker);
    form->addRow(l, m_picker);
    // The picker's items are m_functions, in order.
    connect(m_picker, &QComboBox::currentIndexChanged, this, [this](int index) {
        m_current = index >= 0 && std::size_t(index) < m_functions.size()
                        ? m_functions[std::size_t(index)]
                        : nullptr;
        emit changed(currentName());
    });
}

void FunctionChooser::setFunctions(const std::vector<FunctionPtr> &functions,
                                   const std::function<bool(const FunctionInfo &)> &offer)
{
    const QString previous = currentName();
    m_functions.clear();
    {
        const QSignalBlocker block(m_picker);
        m_picker->clear();
        for (const FunctionPtr &f : functions) {
            if (offer && !offer(*f))
                continue;
            m_functions.push_back(f);
            addFunctionItem(m_picker, *f);
        }
    }
    const int i = m_picker->findData(previous);
    // Through -1, so that changed() comes even when the same index is chosen again.
    m_picker->setCurrentIndex(-1);
    m_picker->setCurrentIndex(i >= 0 ? i : (m_picker->count() ? 0 : -1));
}

void FunctionChooser::setCurrent(const QString &qualifiedName)
{
    const int i = m_picker->findData(qualifiedName);
    if (i >= 0)
        m_picker->setCurrentIndex(i);
}

QString FunctionChooser::currentName() const
{
    return m_picker->currentData().toString();
}

} // namespace taskbench::gui
