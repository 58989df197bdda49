#define BOOST_TEST_MODULE bridge_tests
#include <boost/test/unit_test.hpp>
