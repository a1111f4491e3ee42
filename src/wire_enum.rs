//! The `wire_enum!` macro: a protocol enum with named values and a
//! catch-all, shared by the terminal and panel command tables.

/// Declares a wire enum with named values, a catch-all variant keeping any
/// other raw value, `ALL`, `value()`, `name()`, `from_value()`, `From`
/// conversions both ways and `Display` (`name` + `sep` + `(value)`).
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident : $repr:ty, catch_all = $catch:ident, unknown = $unknown:literal, sep = $sep:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $wire_name:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this crate does not name; the raw value is kept.
            $catch($repr),
        }

        impl $name {
            /// Every named variant, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];

            /// The raw wire value.
            pub const fn value(self) -> $repr {
                match self {
                    $( $name::$variant => $value, )*
                    $name::$catch(v) => v,
                }
            }

            #[doc = concat!("The conventional protocol name (as in the reference), or `\"", $unknown, "\"` for the catch-all.")]
            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $wire_name, )*
                    $name::$catch(_) => $unknown,
                }
            }

            /// Converts a raw value; unnamed values become the catch-all.
            pub const fn from_value(v: $repr) -> Self {
                match v {
                    $( $value => $name::$variant, )*
                    other => $name::$catch(other),
                }
            }
        }

        impl From<$repr> for $name {
            fn from(v: $repr) -> Self {
                Self::from_value(v)
            }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> $repr {
                v.value()
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, concat!("{}", $sep, "({})"), self.name(), self.value())
            }
        }
    };
}

pub(crate) use wire_enum;
