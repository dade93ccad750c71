package mv

// The microversions at which kumo's compute API changes behaviour, named
// by number: V2_47 is 2.47. docs/COMPATIBILITY.md says what each one
// changes; handlers test them with Call.AtLeast and route tables bound
// routes and actions with them. Add one here (and nowhere else) when a
// handler starts to depend on a new microversion.
//
// They are values, never assigned: Version is a struct, so Go cannot make
// them constants.
var (
	V2_1   = Version{2, 1}
	V2_2   = Version{2, 2}
	V2_3   = Version{2, 3}
	V2_5   = Version{2, 5}
	V2_6   = Version{2, 6}
	V2_7   = Version{2, 7}
	V2_8   = Version{2, 8}
	V2_9   = Version{2, 9}
	V2_10  = Version{2, 10}
	V2_11  = Version{2, 11}
	V2_13  = Version{2, 13}
	V2_14  = Version{2, 14}
	V2_15  = Version{2, 15}
	V2_16  = Version{2, 16}
	V2_17  = Version{2, 17}
	V2_19  = Version{2, 19}
	V2_20  = Version{2, 20}
	V2_21  = Version{2, 21}
	V2_22  = Version{2, 22}
	V2_23  = Version{2, 23}
	V2_24  = Version{2, 24}
	V2_25  = Version{2, 25}
	V2_26  = Version{2, 26}
	V2_28  = Version{2, 28}
	V2_29  = Version{2, 29}
	V2_30  = Version{2, 30}
	V2_31  = Version{2, 31}
	V2_32  = Version{2, 32}
	V2_33  = Version{2, 33}
	V2_34  = Version{2, 34}
	V2_35  = Version{2, 35}
	V2_36  = Version{2, 36}
	V2_37  = Version{2, 37}
	V2_38  = Version{2, 38}
	V2_39  = Version{2, 39}
	V2_40  = Version{2, 40}
	V2_41  = Version{2, 41}
	V2_42  = Version{2, 42}
	V2_43  = Version{2, 43}
	V2_45  = Version{2, 45}
	V2_47  = Version{2, 47}
	V2_48  = Version{2, 48}
	V2_49  = Version{2, 49}
	V2_50  = Version{2, 50}
	V2_51  = Version{2, 51}
	V2_52  = Version{2, 52}
	V2_53  = Version{2, 53}
	V2_54  = Version{2, 54}
	V2_55  = Version{2, 55}
	V2_56  = Version{2, 56}
	V2_57  = Version{2, 57}
	V2_58  = Version{2, 58}
	V2_59  = Version{2, 59}
	V2_61  = Version{2, 61}
	V2_62  = Version{2, 62}
	V2_63  = Version{2, 63}
	V2_64  = Version{2, 64}
	V2_65  = Version{2, 65}
	V2_66  = Version{2, 66}
	V2_67  = Version{2, 67}
	V2_68  = Version{2, 68}
	V2_70  = Version{2, 70}
	V2_71  = Version{2, 71}
	V2_73  = Version{2, 73}
	V2_74  = Version{2, 74}
	V2_75  = Version{2, 75}
	V2_76  = Version{2, 76}
	V2_77  = Version{2, 77}
	V2_79  = Version{2, 79}
	V2_80  = Version{2, 80}
	V2_82  = Version{2, 82}
	V2_83  = Version{2, 83}
	V2_84  = Version{2, 84}
	V2_85  = Version{2, 85}
	V2_86  = Version{2, 86}
	V2_87  = Version{2, 87}
	V2_88  = Version{2, 88}
	V2_89  = Version{2, 89}
	V2_90  = Version{2, 90}
	V2_91  = Version{2, 91}
	V2_92  = Version{2, 92}
	V2_93  = Version{2, 93}
	V2_94  = Version{2, 94}
	V2_95  = Version{2, 95}
	V2_96  = Version{2, 96}
	V2_98  = Version{2, 98}
	V2_99  = Version{2, 99}
	V2_100 = Version{2, 100}
	V2_101 = Version{2, 101}
	V2_102 = Version{2, 102}
	V2_104 = Version{2, 104}
)
