#define BOOST_TEST_MODULE robofy_tests
#include <boost/test/unit_test.hpp>
