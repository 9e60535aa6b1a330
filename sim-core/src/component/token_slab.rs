//! Small slabs that hand out u32 tokens for timers: a component that waits on many
//! things at once (requests in service, probes, jobs) keys each timer by a token and finds
//! what it was for in O(1).

#[derive(Clone, Debug)]
pub struct TokenSlab<T> {
    items: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Default for TokenSlab<T> {
    fn default() -> Self {
        TokenSlab { items: Vec::new(), free: Vec::new() }
    }
}

impl<T> TokenSlab<T> {
    #[inline]
    pub fn insert(&mut self, item: T) -> u32 {
        match self.free.pop() {
            Some(t) => {
                self.items[t as usize] = Some(item);
                t
            }
            None => {
                self.items.push(Some(item));
                (self.items.len() - 1) as u32
            }
        }
    }

    #[inline]
    pub fn take(&mut self, token: u32) -> Option<T> {
        let item = self.items.get_mut(token as usize)?.take();
        if item.is_some() {
            self.free.push(token);
        }
        item
    }

    pub fn get(&self, token: u32) -> Option<&T> {
        self.items.get(token as usize)?.as_ref()
    }

    pub fn get_mut(&mut self, token: u32) -> Option<&mut T> {
        self.items.get_mut(token as usize)?.as_mut()
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.free.clear();
    }

    pub fn len(&self) -> usize {
        self.items.len() - self.free.len()
    }
}
