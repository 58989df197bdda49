#define BOOST_TEST_MODULE webhook_tests
#include <boost/test/unit_test.hpp>
