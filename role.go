package tally

// Role is what a signed-in person may do. Everyone may read every list; each action needs
// its role, and admin has them all.
type Role string

// The roles of DESIGN §1.
const (
	RoleAdmin    Role = "admin"
	RoleStaff    Role = "staff"
	RoleOperator Role = "operator"
	RoleEngineer Role = "engineer"
)

// Roles lists every role, admin first.
var Roles = []Role{RoleAdmin, RoleStaff, RoleOperator, RoleEngineer}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// Allows reports whether a user with role r may do what needs role need.
func (r Role) Allows(need Role) bool { return r == RoleAdmin || r == need }
