// The single translation unit that compiles Asio, Asio's SSL layer and Beast.
// Everything else includes their headers with *_SEPARATE_COMPILATION defined, which keeps
// each of our files from instantiating these heavy implementations again.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
