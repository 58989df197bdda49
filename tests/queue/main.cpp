#define BOOST_TEST_MODULE queue_tests
#include <boost/test/unit_test.hpp>
