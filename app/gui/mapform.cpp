#include "mapform.h"

#include "accessibletext.h"
#include "argumentparsing.h"
#include "choicepicker.h"
#include "formparts.h"
#include "functionchooser.h"
#include "icons.h"
#include "mapinput.h"
#include "statusstyle.h"
#include "taskoptionsbox.h"

#include <QButtonGroup>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

namespace taskbench::gui {

MapForm::MapForm(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);

    auto *top = new QFormLayout;
    m_chooser = new FunctionChooser(top, this, tr("F&unction:"), tr("Map function"));
    m_source = new ChoicePicker(this);
    m_source->addItem(tr("Range or list"), int(Values));
    m_source->addItem(tr("File (JSON lines or CSV)"), int(File));
    m_source->addItem(tr("Selected futures"), int(SelectedFutures));
    m_source->setAccessibleName(tr("Inputs from"));
    auto *srcLabel = new QLabel(tr("&Inputs from:"), this);
    srcLabel->setBuddy(m_source);
    top->addRow(srcLabel, m_source);
    layout->addLayout(top);

    m_signature = new QLabel(this);
    m_signature->setWordWrap(true);
    m_signature->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(m_signature);

    m_fileRow = new QWidget(this);
    auto *fr = new QHBoxLayout(m_fileRow);
    fr->setContentsMargins(0, 0, 0, 0);
    m_openFile = new QPushButton(themedIcon(QStringLiteral("open")), tr("Open &file…"), m_fileRow);
    m_openFile->setAccessibleName(tr("Open input file"));
    m_fileLabel = new QLabel(tr("no file"), m_fileRow);
    m_fileLabel->setWordWrap(true);
    fr->addWidget(m_openFile);
    fr->addWidget(m_fileLabel, 1);
    layout->addWidget(m_fileRow);

    m_inputsHost = new QWidget(this);
    m_inputsLayout = new QFormLayout(m_inputsHost);
    m_inputsLayout->setContentsMargins(0, 0, 0, 0);
    m_inputsLayout->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    layout->addWidget(m_inputsHost);

    m_modeRow = new QWidget(this);
    auto *mr = new QHBoxLayout(m_modeRow);
    mr->setContentsMargins(0, 0, 0, 0);
    mr->addWidget(new QLabel(tr("Combine:"), m_modeRow));
    m_zip = new QRadioButton(tr("&Zip"), m_modeRow);
    m_zip->setAccessibleName(tr("Zip"));
    m_zip->setToolTip(tr("Element-wise: the i-th values of each list make the i-th task"));
    m_grid = new QRadioButton(tr("&Grid"), m_modeRow);
    m_grid->setAccessibleName(tr("Grid"));
    m_grid->setToolTip(tr("Every combination of the lists (full product)"));
    m_zip->setChecked(true);
    auto *group = new QButtonGroup(m_modeRow);
    group->addButton(m_zip);
    group->addButton(m_grid);
    mr->addWidget(m_zip);
    mr->addWidget(m_grid);
    mr->addStretch(1);
    layout->addWidget(m_modeRow);

    m_preview = new QLabel(this);
    m_preview->setAccessibleName(tr("Task count preview"));
    m_preview->setWordWrap(true);
    QFont bold = m_preview->font();
    bold.setBold(true);
    m_preview->setFont(bold);
    layout->addWidget(m_preview);

    m_options = new TaskOptionsBox({tr("P&ure (same inputs, same futures)"),
                                    tr("Pure map"),
                                    tr("R&etries:"),
                                    tr("Map retries"),
                                    tr("Priorit&y:"),
                                    tr("Map priority")},
                                   this);
    layout->addWidget(m_options);

    m_formError = newFormErrorLabel(this, tr("Map error"));
    layout->addWidget(m_formError);

    m_map = new QPushButton(themedIcon(QStringLiteral("map")), tr("&Map"), this);
    m_map->setAccessibleName(tr("Map"));
    m_map->setToolTip(tr("Submit one task per input (Ctrl+Shift+Return)"));
    layout->addWidget(m_map);

    auto *reduce = new QGroupBox(tr("Reduce selected futures"), this);
    auto *rr = new QHBoxLayout(reduce);
    m_reduceBox = new ChoicePicker(reduce);
    m_reduceBox->setAccessibleName(tr("Reduce function"));
    m_reduceBox->setMinimumContentsLength(10);
    m_reduceBox->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_reduce = new QPushButton(themedIcon(QStringLiteral("reduce")), tr("&Reduce"), reduce);
    m_reduce->setAccessibleName(tr("Reduce"));
    m_reduce->setToolTip(tr("Submit the function with the selected futures as one list"));
    rr->addWidget(m_reduceBox, 1);
    rr->addWidget(m_reduce);
    layout->addWidget(reduce);
    layout->addStretch(1);

    connect(m_chooser, &FunctionChooser::changed, this, [this](const QString &name) {
        rebuildInputs();
        emit functionChanged(name);
    });
    connect(m_source, &QComboBox::currentIndexChanged, this, [this](int) { rebuildInputs(); });
    connect(m_zip, &QRadioButton::toggled, this, &MapForm::updatePreview);
    connect(m_openFile, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this,
            tr("Map inputs"),
            QString(),
            tr("Inputs (*.jsonl *.ndjson *.json *.csv *.txt);;All files (*)"));
        if (!path.isEmpty())
            loadFile(path);
    });
    connect(m_map, &QPushButton::clicked, this, &MapForm::tryMap);
    connect(m_reduce, &QPushButton::clicked, this, &MapForm::tryReduce);
    rebuildInputs();
}

void MapForm::setFunctions(const std::vector<FunctionPtr> &functions)
{
    const QString currentReduce = m_reduceBox->currentData().toString();
    {
        const QSignalBlocker block(m_reduceBox);
        m_reduceBox->clear();
        for (const FunctionPtr &f : functions) {
            if (f->params.empty())
                continue;
            // Reducers take a list as their first parameter.
            const ParamKind first = paramKind(f->params.front().type);
            if (first == ParamKind::List || first == ParamKind::Any)
                addFunctionItem(m_reduceBox, *f);
        }
    }
    const int ri = m_reduceBox->findData(currentReduce);
    if (ri >= 0)
        m_reduceBox->setCurrentIndex(ri);
    // A map needs a parameter to map over.
    m_chooser->setFunctions(functions, [](const FunctionInfo &f) { return !f.params.empty(); });
    m_reduce->setEnabled(m_reduceBox->count() > 0);
}

void MapForm::setCurrentFunction(const QString &qualifiedName)
{
    m_chooser->setCurrent(qualifiedName);
}

QString MapForm::currentFunction() const
{
    return m_chooser->currentName();
}

void MapForm::setSelectionProvider(std::function<QStringList()> provider)
{
    m_selection = std::move(provider);
}

void MapForm::setReduceFunction(const QString &qualifiedName)
{
    const int i = m_reduceBox->findData(qualifiedName);
    if (i >= 0)
        m_reduceBox->setCurrentIndex(i);
}

void MapForm::setSource(Source source)
{
    m_source->setCurrentIndex(m_source->findData(int(source)));
}

MapForm::Source MapForm::source() const
{
    return Source(m_source->currentData().toInt());
}

QLineEdit *MapForm::inputFor(const QString &param) const
{
    for (const auto &[name, edit] : m_inputs)
        if (name == param)
            return edit;
    return nullptr;
}

void MapForm::setMode(SweepMode mode)
{
    (mode == SweepMode::Zip ? m_zip : m_grid)->setChecked(true);
}

SweepMode MapForm::mode() const
{
    return m_grid->isChecked() ? SweepMode::Grid : SweepMode::Zip;
}

void MapForm::rebuildInputs()
{
    QHash<QString, QString> previous;
    for (const auto &[name, edit] : m_inputs)
        previous.insert(name, edit->text());
    while (m_inputsLayout->rowCount() > 0)
        m_inputsLayout->removeRow(0);
    m_inputs.clear();
    m_formError->hide();
    const Source src = source();
    m_fileRow->setVisible(src == File);
    const FunctionPtr &function = m_chooser->current();
    if (!function) {
        m_signature->setText(tr("No function with parameters loaded."));
        m_map->setEnabled(false);
        updatePreview();
        return;
    }
    m_map->setEnabled(true);
    m_signature->setText(QString::fromStdString(function->signature()));
    const bool several = function->params.size() > 1;
    m_modeRow->setVisible(several && src != File);
    if (src != File) {
        bool first = true;
        for (const sdk::ParamSpec &p : function->params) {
            const QString name = QString::fromStdString(p.name);
            if (src == SelectedFutures && first) {
                first = false;
                m_inputsLayout->addRow(QStringLiteral("%1:").arg(name),
                                       new QLabel(tr("the selected futures"), m_inputsHost));
                continue;
            }
            first = false;
            auto *edit = new QLineEdit(m_inputsHost);
            edit->setAccessibleName(tr("%1 values").arg(name));
            edit->setPlaceholderText(p.hasDefault ? tr("default, or 0..9, or 1, 2, 3")
                                                  : tr("0..9, range(10), or 1, 2, 3"));
            edit->setToolTip(tr("Values for %1 (%2): a range like 0..9 or 0..100:5, range(10), a "
                                "JSON list, or values separated by commas")
                                 .arg(name, QString::fromStdString(p.type)));
            edit->setClearButtonEnabled(true);
            edit->setText(previous.value(name));
            auto *label = new QLabel(QStringLiteral("%1:").arg(name), m_inputsHost);
            label->setBuddy(edit);
            m_inputsLayout->addRow(label, edit);
            connect(edit, &QLineEdit::textChanged, this, &MapForm::updatePreview);
            m_inputs.emplace_back(name, edit);
        }
    }
    updatePreview();
}

std::optional<std::vector<std::vector<Value>>> MapForm::columnsFromFile(QString *error) const
{
    const auto &params = m_chooser->current()->params;
    std::vector<std::vector<Value>> columns(params.size());
    if (m_fileText.isEmpty()) {
        *error = tr("Open a JSON-lines or CSV file");
        return std::nullopt;
    }
    if (m_fileCsv) {
        auto table
            = mapinput::parseCsv(m_fileText, mapinput::csvLooksLikeHeader(m_fileText), error);
        if (!table)
            return std::nullopt;
        std::vector<int> columnOf(params.size(), -1);
        for (std::size_t p = 0; p < params.size(); ++p)
            columnOf[p] = int(table->header.indexOf(QString::fromStdString(params[p].name)));
        const bool byName
            = std::all_of(columnOf.begin(), columnOf.end(), [](int c) { return c >= 0; });
        const int width = table->rows.empty() ? 0 : int(table->rows.front().size());
        if (!byName) {
            if (width < int(params.size())) {
                *error = tr("The CSV has %1 column(s); %2 needs %3")
                             .arg(width)
                             .arg(QString::fromStdString(m_chooser->current()->qualifiedName))
                             .arg(params.size());
                return std::nullopt;
            }
            for (std::size_t p = 0; p < params.size(); ++p)
                columnOf[p] = int(p);
        }
        for (const auto &row : table->rows)
            for (std::size_t p = 0; p < params.size(); ++p)
                columns[p].push_back(row[std::size_t(columnOf[p])]);
        return columns;
    }
    auto values = mapinput::parseJsonLines(m_fileText, error);
    if (!values)
        return std::nullopt;
    int line = 0;
    for (const Value &v : *values) {
        ++line;
        if (params.size() == 1) {
            columns[0].push_back(v);
            continue;
        }
        if (v.isList() && v.toList().size() == params.size()) {
            for (std::size_t p = 0; p < params.size(); ++p)
                columns[p].push_back(v.toList()[p]);
        } else if (v.isMap()) {
            for (std::size_t p = 0; p < params.size(); ++p) {
                auto it = v.toMap().find(params[p].name);
                if (it == v.toMap().end()) {
                    if (!params[p].hasDefault) {
                        *error = tr("Line %1 has no \"%2\"")
                                     .arg(line)
                                     .arg(QString::fromStdString(params[p].name));
                        return std::nullopt;
                    }
                    columns[p].push_back(params[p].defaultValue);
                } else {
                    columns[p].push_back(it->second);
                }
            }
        } else {
            *error = tr("Line %1: expected a list of %n value(s) or an object",
                        nullptr,
                        int(params.size()))
                         .arg(line);
            return std::nullopt;
        }
    }
    return columns;
}

std::optional<std::vector<std::vector<Value>>> MapForm::buildArguments(std::size_t limit)
{
    m_previewError.clear();
    if (!m_chooser->current()) {
        m_previewError = tr("Choose a function first");
        return std::nullopt;
    }
    const auto &params = m_chooser->current()->params;
    std::vector<std::vector<Value>> lists;
    QString error;
    const Source src = source();
    SweepMode mode = this->mode();
    if (src == File) {
        auto columns = columnsFromFile(&error);
        if (!columns) {
            m_previewError = error;
            return std::nullopt;
        }
        lists = std::move(*columns);
        mode = SweepMode::Zip; // rows are records
    } else {
        std::size_t inputIndex = 0;
        for (std::size_t p = 0; p < params.size(); ++p) {
            if (src == SelectedFutures && p == 0) {
                const QStringList keys = m_selection ? m_selection() : QStringList();
                if (keys.isEmpty()) {
                    m_previewError = tr("Select futures in the table to map over");
                    return std::nullopt;
                }
                std::vector<Value> refs;
                for (const QString &k : keys)
                    refs.push_back(Value::ref(k.toStdString()));
                lists.push_back(std::move(refs));
                continue;
            }
            QLineEdit *edit = m_inputs[inputIndex++].second;
            const QString text = edit->text();
            if (text.trimmed().isEmpty() && params[p].hasDefault) {
                lists.push_back({params[p].defaultValue});
                continue;
            }
            auto values = mapinput::parseValues(text, &error);
            if (!values) {
                m_previewError
                    = QStringLiteral("%1: %2").arg(QString::fromStdString(params[p].name), error);
                return std::nullopt;
            }
            lists.push_back(std::move(*values));
        }
    }
    for (std::size_t p = 0; p < params.size() && p < lists.size(); ++p) {
        for (const Value &v : lists[p]) {
            if (!valueFitsType(params[p].type, v, &error)) {
                m_previewError
                    = QStringLiteral("%1: %2").arg(QString::fromStdString(params[p].name), error);
                return std::nullopt;
            }
        }
    }
    auto args = buildSweep(lists, mode, limit, &error);
    if (!args) {
        m_previewError = error;
        return std::nullopt;
    }
    if (args->empty()) {
        m_previewError = tr("The inputs are empty");
        return std::nullopt;
    }
    return args;
}

void MapForm::updatePreview()
{
    m_count = 0;
    m_previewError.clear();
    QString warning;
    if (m_chooser->current()) {
        // Count without building the argument lists (a grid can be huge).
        std::vector<std::size_t> sizes;
        const auto &params = m_chooser->current()->params;
        QString error;
        const Source src = source();
        bool ok = true;
        if (src == File) {
            auto columns = columnsFromFile(&error);
            ok = bool(columns);
            if (ok)
                for (const auto &c : *columns)
                    sizes.push_back(c.size());
        } else {
            std::size_t inputIndex = 0;
            for (std::size_t p = 0; p < params.size() && ok; ++p) {
                if (src == SelectedFutures && p == 0) {
                    sizes.push_back(m_selection ? std::size_t(m_selection().size()) : 0);
                    continue;
                }
                const QString text = m_inputs[inputIndex++].second->text();
                if (text.trimmed().isEmpty()) {
                    if (params[p].hasDefault) {
                        sizes.push_back(1);
                        continue;
                    }
                    sizes.push_back(0);
                    continue;
                }
                auto values = mapinput::parseValues(text, &error);
                if (!values) {
                    ok = false;
                    error = QStringLiteral("%1: %2").arg(QString::fromStdString(params[p].name),
                                                         error);
                    break;
                }
                sizes.push_back(values->size());
            }
        }
        if (ok)
            m_count = sweepCount(sizes, src == File ? SweepMode::Zip : mode(), &warning);
        else
            m_previewError = error;
    }
    if (!m_previewError.isEmpty()) {
        setLabelText(m_preview, m_previewError);
        QPalette pal = m_preview->palette();
        pal.setColor(QPalette::WindowText, statusColor(FutureStatus::Error));
        m_preview->setPalette(pal);
    } else {
        m_preview->setPalette(QPalette());
        setLabelText(m_preview,
                     previewText()
                         + (warning.isEmpty() ? QString() : QStringLiteral("\n") + warning));
    }
    m_map->setEnabled(m_chooser->current() && m_count > 0);
}

QString MapForm::previewText() const
{
    return tr(
        "Will create %n task(s)", nullptr, int(std::min<std::size_t>(m_count, 2'000'000'000)));
}

bool MapForm::loadFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) {
        showFormError(tr("Cannot read %1: %2").arg(path, f.errorString()));
        return false;
    }
    const QString text = QString::fromUtf8(f.readAll());
    const bool csv
        = path.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive)
          || (!text.trimmed().startsWith(QLatin1Char('{'))
              && !text.trimmed().startsWith(QLatin1Char('[')) && text.contains(QLatin1Char(',')));
    setFileContent(text, csv);
    m_fileLabel->setText(QStringLiteral("%1 (%2)").arg(QFileInfo(path).fileName(),
                                                       csv ? tr("CSV") : tr("JSON lines")));
    return true;
}

void MapForm::setFileContent(const QString &text, bool csv)
{
    m_fileText = text;
    m_fileCsv = csv;
    if (source() != File)
        setSource(File);
    else
        updatePreview();
}

bool MapForm::tryMap()
{
    m_formError->hide();
    auto args = buildArguments();
    if (!args) {
        showFormError(m_previewError);
        return false;
    }
    const SubmitOptions opts = m_options->options();
    emit mapRequested(currentFunction(), *args, opts);
    return true;
}

bool MapForm::tryReduce()
{
    m_formError->hide();
    const QString fn = m_reduceBox->currentData().toString();
    const QStringList keys = m_selection ? m_selection() : QStringList();
    if (fn.isEmpty()) {
        showFormError(tr("No function takes a list"));
        return false;
    }
    if (keys.isEmpty()) {
        showFormError(tr("Select the futures to reduce in the table"));
        return false;
    }
    Value::List refs;
    for (const QString &k : keys)
        refs.push_back(Value::ref(k.toStdString()));
    SubmitOptions opts; // a reduction is one call: not pure over the selection's keys
    opts.retries = m_options->options().retries;
    opts.priority = m_options->options().priority;
    emit reduceRequested(fn, {Value(std::move(refs))}, opts);
    return true;
}

void MapForm::showFormError(const QString &message)
{
    setLabelText(m_formError, message);
    m_formError->setVisible(!message.isEmpty());
}

} // namespace taskbench::gui
