#pragma once
// --allow-path DIR for the commands that read profiles: distribution tables may then come
// from DIR as well as from the profile's own directory (profile::TablePolicy).
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "profile/parse.hpp"

namespace netchaos::cli {

inline void add_allow_path_option(boost::program_options::options_description& opts, std::vector<std::string>& dirs) {
    opts.add_options()("allow-path", boost::program_options::value(&dirs)->composing(),
                       "also read distribution tables, delay traces and mm-link traces under DIR (repeatable; by default only under the "
                       "directory of the file that names them)");
}

inline void use_allow_paths(const std::vector<std::string>& dirs) {
    profile::TablePolicy p;
    for (const auto& d : dirs) p.allowed.emplace_back(d);
    profile::set_table_policy(std::move(p));
}

}  // namespace netchaos::cli
