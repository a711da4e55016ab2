#pragma once
// Result<T>: a value or an error message. Used where failure is expected (I/O, parsing,
// the hot path) instead of exceptions.
#include <string>
#include <utility>
#include <variant>

namespace netchaos {

struct Error {
    std::string message;
    int code = 4;  // process exit code this error maps to (see docs: 3 bad input, 4 system)
};

template <class T>
class Result {
public:
    Result(T v) : v_(std::move(v)) {}                // NOLINT: implicit on purpose
    Result(Error e) : v_(std::move(e)) {}            // NOLINT
    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const Error& error() const { return std::get<1>(v_); }
private:
    std::variant<T, Error> v_;
};

template <>
class Result<void> {
public:
    Result() = default;
    Result(Error e) : err_(std::move(e)), ok_(false) {}  // NOLINT
    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return err_; }
private:
    Error err_{};
    bool ok_ = true;
};

inline Error make_error(std::string msg, int code = 4) { return Error{std::move(msg), code}; }

}  // namespace netchaos
