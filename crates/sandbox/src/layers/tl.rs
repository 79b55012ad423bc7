//! A TL codec driven by schema text: enough of core.telegram.org/mtproto/TL to carry the
//! sandbox's answers between layers (flags, conditional fields, vectors, boxed objects).

use std::collections::HashMap;

use grammers_tl_types::Serializable;

const VECTOR: u32 = 0x1cb5c415;
const BOOL_TRUE: u32 = 0x997275b5;
const BOOL_FALSE: u32 = 0xbc799737;

#[derive(Clone, Debug, PartialEq)]
enum Ty {
    Flags,
    True,
    Int,
    Long,
    Double,
    /// `string` and `bytes`: one encoding.
    Bytes,
    Bool,
    Int128,
    Int256,
    Vector(Box<Ty>),
    Boxed,
}

#[derive(Debug)]
struct Field {
    name: String,
    /// `flags.N?`: the flags field's name and the bit.
    cond: Option<(String, u32)>,
    ty: Ty,
}

#[derive(Debug)]
struct Ctor {
    name: String,
    id: u32,
    fields: Vec<Field>,
}

/// One layer's constructors.
pub struct Schema {
    by_id: HashMap<u32, Ctor>,
    by_name: HashMap<String, u32>,
}

/// A decoded value. Flags words are not kept: they are recomputed on encoding.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i32),
    Long(i64),
    Double(u64),
    Bytes(Vec<u8>),
    Bool(bool),
    True,
    Raw(Vec<u8>),
    Vector(Vec<Value>),
    Object(String, Vec<(String, Value)>),
}

fn parse_ty(t: &str) -> Ty {
    match t {
        "#" => Ty::Flags,
        "true" => Ty::True,
        "int" => Ty::Int,
        "long" | "int53" => Ty::Long,
        "double" => Ty::Double,
        "string" | "bytes" => Ty::Bytes,
        "Bool" => Ty::Bool,
        "int128" => Ty::Int128,
        "int256" => Ty::Int256,
        _ => match t.strip_prefix("Vector<").and_then(|r| r.strip_suffix('>')) {
            Some(inner) => Ty::Vector(Box::new(parse_ty(inner))),
            None => Ty::Boxed,
        },
    }
}

fn parse_field(tok: &str) -> Option<Field> {
    let (name, ty) = tok.split_once(':')?;
    let (cond, ty) = match ty.split_once('?') {
        Some((c, t)) => {
            let (flags, bit) = c.split_once('.')?;
            (Some((flags.to_string(), bit.parse().ok()?)), t)
        }
        None => (None, ty),
    };
    Some(Field {
        name: name.to_string(),
        cond,
        ty: parse_ty(ty),
    })
}

impl Schema {
    /// Parses `name#id field:type ... = Type;` lines; `//` lines are comments.
    pub fn parse(text: &str) -> Result<Schema, String> {
        let mut by_id = HashMap::new();
        let mut by_name = HashMap::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let lhs = line.split(" = ").next().unwrap_or(line);
            let mut toks = lhs.split_whitespace();
            let head = toks.next().ok_or("empty line")?;
            let (name, id) = head.split_once('#').ok_or(format!("no #id in {head}"))?;
            let id = u32::from_str_radix(id, 16).map_err(|e| format!("{head}: {e}"))?;
            let fields = toks
                .filter(|t| !t.starts_with('{'))
                .map(|t| parse_field(t).ok_or(format!("{name}: bad field {t}")))
                .collect::<Result<Vec<_>, _>>()?;
            by_name.insert(name.to_string(), id);
            by_id.insert(
                id,
                Ctor {
                    name: name.to_string(),
                    id,
                    fields,
                },
            );
        }
        Ok(Schema { by_id, by_name })
    }

    /// An RPC answer: one boxed object, or a vector of them (users.getUsers).
    pub fn decode_answer(&self, bytes: &[u8]) -> Result<Value, String> {
        let mut r = Reader { b: bytes, at: 0 };
        let v = if bytes.get(..4) == Some(&VECTOR.to_le_bytes()[..]) {
            self.read(&mut r, &Ty::Vector(Box::new(Ty::Boxed)))?
        } else {
            self.read(&mut r, &Ty::Boxed)?
        };
        if r.at != bytes.len() {
            return Err(format!(
                "{} bytes left after the answer",
                bytes.len() - r.at
            ));
        }
        Ok(v)
    }

    pub(crate) fn encode_answer(&self, v: &Value) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let ty = match v {
            Value::Vector(_) => Ty::Vector(Box::new(Ty::Boxed)),
            _ => Ty::Boxed,
        };
        self.write(&mut out, &ty, v, "answer")?;
        Ok(out)
    }

    fn read(&self, r: &mut Reader, ty: &Ty) -> Result<Value, String> {
        Ok(match ty {
            Ty::Int => Value::Int(i32::from_le_bytes(r.take()?)),
            Ty::Long => Value::Long(i64::from_le_bytes(r.take()?)),
            Ty::Double => Value::Double(u64::from_le_bytes(r.take()?)),
            Ty::Int128 => Value::Raw(r.take::<16>()?.to_vec()),
            Ty::Int256 => Value::Raw(r.take::<32>()?.to_vec()),
            Ty::Bytes => Value::Bytes(r.bytes()?),
            Ty::Bool => match u32::from_le_bytes(r.take()?) {
                BOOL_TRUE => Value::Bool(true),
                BOOL_FALSE => Value::Bool(false),
                other => return Err(format!("Bool with constructor {other:08x}")),
            },
            Ty::True => Value::True,
            Ty::Flags => return Err("a flags word outside an object".into()),
            Ty::Vector(inner) => {
                if u32::from_le_bytes(r.take()?) != VECTOR {
                    return Err("a Vector without its constructor".into());
                }
                let n = u32::from_le_bytes(r.take()?) as usize;
                if n > r.b.len() {
                    return Err("a Vector longer than the answer".into());
                }
                let items = (0..n)
                    .map(|_| self.read(r, inner))
                    .collect::<Result<_, _>>()?;
                Value::Vector(items)
            }
            Ty::Boxed => {
                let id = u32::from_le_bytes(r.take()?);
                let ctor = self
                    .by_id
                    .get(&id)
                    .ok_or(format!("constructor {id:08x} is not in the layer file"))?;
                self.read_fields(r, ctor)?
            }
        })
    }

    fn read_fields(&self, r: &mut Reader, ctor: &Ctor) -> Result<Value, String> {
        let mut flags: HashMap<&str, u32> = HashMap::new();
        let mut fields = Vec::new();
        for f in &ctor.fields {
            if f.ty == Ty::Flags {
                flags.insert(&f.name, u32::from_le_bytes(r.take()?));
                continue;
            }
            if let Some((word, bit)) = &f.cond
                && flags.get(word.as_str()).copied().unwrap_or(0) & (1 << bit) == 0
            {
                continue;
            }
            fields.push((f.name.clone(), self.read(r, &f.ty)?));
        }
        Ok(Value::Object(ctor.name.clone(), fields))
    }

    fn write(&self, out: &mut Vec<u8>, ty: &Ty, v: &Value, at: &str) -> Result<(), String> {
        match (ty, v) {
            (Ty::Int, Value::Int(x)) => out.extend(x.to_le_bytes()),
            (Ty::Long, Value::Long(x)) => out.extend(x.to_le_bytes()),
            (Ty::Double, Value::Double(x)) => out.extend(x.to_le_bytes()),
            (Ty::Int128 | Ty::Int256, Value::Raw(b)) => out.extend(b),
            (Ty::Bytes, Value::Bytes(b)) => b.as_slice().serialize(out),
            (Ty::Bool, Value::Bool(b)) => {
                out.extend(if *b { BOOL_TRUE } else { BOOL_FALSE }.to_le_bytes())
            }
            (Ty::True, Value::True) => {}
            (Ty::Vector(inner), Value::Vector(items)) => {
                out.extend(VECTOR.to_le_bytes());
                out.extend((items.len() as u32).to_le_bytes());
                for item in items {
                    self.write(out, inner, item, at)?;
                }
            }
            (Ty::Boxed, Value::Object(name, fields)) => self.write_object(out, name, fields)?,
            _ => return Err(format!("{at}: {v:?} does not fit {ty:?} in this layer")),
        }
        Ok(())
    }

    fn write_object(
        &self,
        out: &mut Vec<u8>,
        name: &str,
        fields: &[(String, Value)],
    ) -> Result<(), String> {
        let ctor = self
            .by_name
            .get(name)
            .and_then(|id| self.by_id.get(id))
            .ok_or(format!("{name} does not exist in this layer"))?;
        let given = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v);
        out.extend(ctor.id.to_le_bytes());
        for f in &ctor.fields {
            let at = format!("{name}.{}", f.name);
            if f.ty == Ty::Flags {
                let bits = ctor
                    .fields
                    .iter()
                    .filter(|g| given(&g.name).is_some())
                    .filter_map(|g| g.cond.as_ref())
                    .filter(|(word, _)| *word == f.name)
                    .fold(0u32, |acc, (_, bit)| acc | 1 << bit);
                out.extend(bits.to_le_bytes());
                continue;
            }
            match (given(&f.name), &f.cond) {
                (Some(v), _) => self.write(out, &f.ty, v, &at)?,
                (None, Some(_)) => {}
                (None, None) => self.write(out, &f.ty, &default_of(&f.ty, &at)?, &at)?,
            }
        }
        Ok(())
    }
}

/// A required field that layer 230 no longer has: its zero value, where TL has one.
fn default_of(ty: &Ty, at: &str) -> Result<Value, String> {
    Ok(match ty {
        Ty::Int => Value::Int(0),
        Ty::Long => Value::Long(0),
        Ty::Double => Value::Double(0),
        Ty::Bytes => Value::Bytes(Vec::new()),
        Ty::Bool => Value::Bool(false),
        Ty::Vector(_) => Value::Vector(Vec::new()),
        _ => return Err(format!("{at} is required in this layer and has no value")),
    })
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let s = self
            .b
            .get(self.at..self.at + N)
            .ok_or("the answer ends early")?;
        self.at += N;
        Ok(s.try_into().expect("N bytes"))
    }

    fn bytes(&mut self) -> Result<Vec<u8>, String> {
        let first = self.take::<1>()?[0] as usize;
        let (len, head) = if first == 254 {
            let l = self.take::<3>()?;
            (
                l[0] as usize | (l[1] as usize) << 8 | (l[2] as usize) << 16,
                4,
            )
        } else {
            (first, 1)
        };
        let data = self
            .b
            .get(self.at..self.at + len)
            .ok_or("a string longer than the answer")?
            .to_vec();
        self.at += len;
        self.at += (4 - (head + len) % 4) % 4;
        Ok(data)
    }
}
