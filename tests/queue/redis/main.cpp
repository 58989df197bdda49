#define BOOST_TEST_MODULE redis_tests
#include <boost/test/unit_test.hpp>
