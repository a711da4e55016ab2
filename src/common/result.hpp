#pragma once
// Result<T>: a value or an error message. Used where failure is expected (I/O, parsing,
// the hot path) instead of exceptions.
#include <string>
#include <utility>
#include <variant>

namespace netchaos {

// What went wrong, in the library's terms. Library code says which kind of failure it is;
// only the command-line layer (src/cli/exit_codes.hpp) turns a kind into a process exit code.
enum class ErrorKind {
    bad_input,  // the user's input (a profile, a flag, a file, a request) is wrong: fix it and retry
    system,     // the system refused or failed (netlink, a socket, a peer that is down)
};

struct Error {
    std::string message;
    ErrorKind kind = ErrorKind::system;
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
    const T& operator*() const { return value(); }
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

// The name on the wire (the forwarder's and the http proxy's control replies carry "kind").
inline const char* kind_name(ErrorKind k) { return k == ErrorKind::bad_input ? "bad_input" : "system"; }

inline Error make_error(std::string msg, ErrorKind kind = ErrorKind::system) { return Error{std::move(msg), kind}; }

}  // namespace netchaos
