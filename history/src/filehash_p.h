// The SHA-256 of a file's bytes, hex: how the history names a plugin build (the sessions'
// plugin rows) and how the result cache tells a rebuilt plugin from the one that computed.
#pragma once

#include <QCryptographicHash>
#include <QFile>
#include <QString>

#include <string>

namespace taskbench::history {

/// Empty when the file cannot be read.
inline std::string fileSha256(const std::string &path)
{
    QFile file(QString::fromStdString(path));
    if (path.empty() || !file.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file))
        return {};
    return hash.result().toHex().toStdString();
}

} // namespace taskbench::history
