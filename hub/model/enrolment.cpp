#include "vigil/hub/enrolment.hpp"

namespace vigil::hub {

const char* to_string(Enrolment enrolment) {
    switch (enrolment) {
        case Enrolment::Pending:
            return "pending";
        case Enrolment::Enrolled:
            return "enrolled";
        case Enrolment::Blocked:
            return "blocked";
    }
    return "unknown";
}

}  // namespace vigil::hub
